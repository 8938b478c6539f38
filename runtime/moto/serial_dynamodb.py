"""moto's server, with DynamoDB requests handled one at a time.

Why: DynamoDB applies each request (UpdateItem, TransactWriteItems...) atomically, and the handlers'
correctness (stock never below zero, one shipment per order) rests on that. moto's threaded server
does not: two concurrent TransactWriteItems on one item can lose an update (seen: 399 of 400
increments). Serializing DynamoDB requests restores the per-request atomicity DynamoDB promises while
clients stay concurrent, so races *between* requests (read, then conditional write) are still
exercised. Other services are left concurrent: SQS long polls must not block the server.

Usage: python3 serial_dynamodb.py -H 127.0.0.1 -p PORT   (same options as moto_server)
"""

import argparse
import threading

from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

_dynamodb = threading.Lock()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()

    app = DomainDispatcherApplication(create_backend_app)

    def serialized(environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("DynamoDB_"):
            with _dynamodb:
                # The body is produced inside the lock: the backend's work happens while iterating.
                return list(app(environ, start_response))
        return app(environ, start_response)

    run_simple(args.host, args.port, serialized, threaded=True)


if __name__ == "__main__":
    main()

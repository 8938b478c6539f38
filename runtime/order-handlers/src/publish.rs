//! Publishing domain events to the platform's bus.

use contracts::DomainEvent;

use handler_support::Error;

/// Puts events of the contract types on one EventBridge bus.
#[derive(Clone, Debug)]
pub struct EventPublisher {
    client: aws_sdk_eventbridge::Client,
    bus_name: String,
}

impl EventPublisher {
    pub fn new(client: aws_sdk_eventbridge::Client, bus_name: impl Into<String>) -> Self {
        EventPublisher {
            client,
            bus_name: bus_name.into(),
        }
    }

    pub fn bus_name(&self) -> &str {
        &self.bus_name
    }

    /// Publishes `event` with its contract's source and detail-type.
    pub async fn publish<E: DomainEvent>(&self, event: &E) -> Result<(), Error> {
        let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus_name)
            .source(E::SOURCE)
            .detail_type(E::DETAIL_TYPE)
            .detail(serde_json::to_string(event)?)
            .build();
        let out = self.client.put_events().entries(entry).send().await?;
        if out.failed_entry_count() > 0 {
            let why = out
                .entries()
                .iter()
                .filter_map(|e| e.error_message())
                .collect::<Vec<_>>()
                .join("; ");
            return Err(format!("EventBridge rejected {}: {why}", E::DETAIL_TYPE).into());
        }
        Ok(())
    }
}

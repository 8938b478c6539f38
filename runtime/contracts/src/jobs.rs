//! Seed 004 serverless jobs: an invoice per confirmed payment, written to S3; a thumbnail per catalog image
//! uploaded to S3.

/// Name of the invoice bucket.
pub const INVOICE_BUCKET: &str = "INVOICE_BUCKET";
/// Name of the catalog image bucket.
pub const IMAGE_BUCKET: &str = "IMAGE_BUCKET";
/// Name of the catalog table (products and their image keys).
pub const CATALOG_TABLE: &str = "CATALOG_TABLE";

/// Where invoices are written.
pub const INVOICE_PREFIX: &str = "invoices/";
/// Where catalog images are uploaded; the resize job reacts to objects created here only.
pub const UPLOAD_PREFIX: &str = "uploads/";
/// Where the resize job writes thumbnails (outside [`UPLOAD_PREFIX`], so a thumbnail never triggers it).
pub const THUMBNAIL_PREFIX: &str = "thumbnails/";
/// The longest side of a thumbnail, in pixels.
pub const THUMBNAIL_MAX_SIDE: u32 = 256;

/// The key of an order's invoice: one per order, so a repeated event rewrites the same object.
pub fn invoice_key(order_id: &str) -> String {
    format!("{INVOICE_PREFIX}{order_id}.txt")
}

/// The thumbnail key of an uploaded image (`uploads/a/b.png` -> `thumbnails/a/b.png`), or `None` for a key
/// outside [`UPLOAD_PREFIX`].
pub fn thumbnail_key(upload_key: &str) -> Option<String> {
    let rest = upload_key.strip_prefix(UPLOAD_PREFIX)?;
    (!rest.is_empty()).then(|| format!("{THUMBNAIL_PREFIX}{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_mirror_uploads_and_nothing_else() {
        assert_eq!(
            thumbnail_key("uploads/a/b.png").as_deref(),
            Some("thumbnails/a/b.png")
        );
        assert_eq!(thumbnail_key("thumbnails/a.png"), None);
        assert_eq!(thumbnail_key("uploads/"), None);
        assert_eq!(invoice_key("o-1"), "invoices/o-1.txt");
    }
}

//! Response bodies: bytes in zeroing memory, which tell when they were sent in full.

use hyper::body::Buf;
use zeroize::Zeroizing;

/// A response body in memory, zeroed when dropped, that can say when it has been handed to the
/// kernel in full. Hyper is told to queue bodies (`writev`), never to copy them into its own
/// buffers, so this is the only copy broker keeps.
pub struct Payload {
    bytes: Zeroizing<Vec<u8>>,
    at: usize,
    on_sent: Option<Box<dyn FnOnce() + Send>>,
}

impl Payload {
    pub fn new(bytes: Zeroizing<Vec<u8>>) -> Payload {
        Payload {
            bytes,
            at: 0,
            on_sent: None,
        }
    }

    /// Calls `f` once the last byte has been written to the connection.
    pub fn on_sent(mut self, f: impl FnOnce() + Send + 'static) -> Payload {
        self.on_sent = Some(Box::new(f));
        self
    }
}

impl Buf for Payload {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn chunk(&self) -> &[u8] {
        &self.bytes[self.at..]
    }

    fn advance(&mut self, n: usize) {
        self.at = (self.at + n).min(self.bytes.len());
        if self.at == self.bytes.len() {
            if let Some(f) = self.on_sent.take() {
                f();
            }
        }
    }
}

/// Builds a [`Payload`] without leaving copies behind: growing moves the bytes to a larger
/// buffer and zeroes the old one.
#[derive(Default)]
pub struct PayloadWriter(Zeroizing<Vec<u8>>);

impl PayloadWriter {
    pub fn with_capacity(capacity: usize) -> PayloadWriter {
        PayloadWriter(Zeroizing::new(Vec::with_capacity(capacity)))
    }

    pub fn into_payload(self) -> Payload {
        Payload::new(self.0)
    }

    fn push(&mut self, data: &[u8]) {
        if self.0.capacity() - self.0.len() < data.len() {
            let wanted = (self.0.len() + data.len()).max(2 * self.0.capacity());
            let mut bigger = Zeroizing::new(Vec::with_capacity(wanted));
            bigger.extend_from_slice(&self.0);
            // The old buffer is zeroed as it drops.
            self.0 = bigger;
        }
        self.0.extend_from_slice(data);
    }
}

impl std::io::Write for PayloadWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.push(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl std::fmt::Write for PayloadWriter {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::sync::Arc;

    use super::*;

    #[test]
    fn payloads_tell_when_sent_in_full() {
        let sent = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = sent.clone();
        let mut payload = Payload::new(Zeroizing::new(b"secret".to_vec()))
            .on_sent(move || flag.store(true, Ordering::SeqCst));
        assert_eq!(payload.chunk(), b"secret");
        payload.advance(3);
        assert!(!sent.load(Ordering::SeqCst));
        assert_eq!(payload.chunk(), b"ret");
        payload.advance(3);
        assert!(sent.load(Ordering::SeqCst));
        assert_eq!(payload.remaining(), 0);
    }

    #[test]
    fn the_payload_writer_keeps_everything_across_growth() {
        use std::io::Write;
        let mut w = PayloadWriter::with_capacity(2);
        for _ in 0..100 {
            w.write_all(b"0123456789").unwrap();
        }
        let payload = w.into_payload();
        assert_eq!(payload.remaining(), 1000);
        assert!(payload.chunk().starts_with(b"01234567890123"));
    }
}

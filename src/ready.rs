//! Futures that finish without waiting.

/// Runs a future that never waits (the SDK's endpoint rules and profile loader are `async` but
/// finish on the first poll); `None` if it would wait, rather than a busy loop.
pub fn now_or_never<F: std::future::Future>(future: F) -> Option<F::Output> {
    let future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.poll(&mut cx) {
        std::task::Poll::Ready(out) => Some(out),
        std::task::Poll::Pending => None,
    }
}

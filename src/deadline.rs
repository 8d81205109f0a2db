//! Parsing with a time limit.
//!
//! The SQL parser DataFusion 55 pins backtracks on some malformed statements, in time that
//! doubles with each part of a dotted name (`a.b.c...x[y z`: 20 parts take 2 s, 40 would take
//! weeks). Newer parsers fix these cases one by one; until b3lake can take one, every full
//! parse of a statement (a query's, a table's DDL) runs on a thread of its own, and a
//! statement that is not parsed within [`PARSE_TIME`] is refused with a clear error instead
//! of hanging the prompt or the job. (Catalog statements are recognised by their keywords,
//! names and literals alone, in one pass.) The parser's thread is left to finish on its own;
//! a one-shot command exits at once. An async caller awaits the parse ([`parse_within_async`]):
//! a server's worker thread must not sit in a blocking wait while other requests queue.

use std::time::Duration;

/// How long a statement may take to parse: real statements, even of thousands of terms,
/// parse in milliseconds.
pub const PARSE_TIME: Duration = Duration::from_secs(3);

/// Stack of every thread that parses, plans or evaluates SQL: statements may nest up to
/// [`crate::sql::depth::MAX_DEPTH`] levels, and each recurses once per level. The memory is
/// only reserved, and touched as deep statements need it.
pub const STACK: usize = 64 * 1024 * 1024;

/// Why a statement was not parsed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TooSlow {
    /// The parser did not finish in time.
    #[error(
        "the SQL parser gave up on this statement after {} s: a long dotted name (a.b.c...) before \
         a bracket or a syntax error makes it backtrack; check the statement's brackets and names",
        PARSE_TIME.as_secs()
    )]
    Timeout,
    /// The system gave no thread to parse on.
    #[error("no thread to parse the statement on: {0}")]
    NoThread(String),
}

/// Runs `parse` on a thread of its own, waiting [`PARSE_TIME`] at most for its result.
pub fn parse_within<T: Send + 'static>(parse: impl FnOnce() -> T + Send + 'static) -> Result<T, TooSlow> {
    within(PARSE_TIME, parse)
}

/// [`parse_within`] for async callers: the wait is a future, so the worker thread runs other
/// tasks while the parser's thread works.
pub async fn parse_within_async<T: Send + 'static>(parse: impl FnOnce() -> T + Send + 'static) -> Result<T, TooSlow> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    spawn(move || {
        let _ = tx.send(parse());
    })?;
    match tokio::time::timeout(PARSE_TIME, rx).await {
        Ok(Ok(parsed)) => Ok(parsed),
        // The thread ended without an answer (it panicked), or time ran out.
        Ok(Err(_)) | Err(_) => Err(TooSlow::Timeout),
    }
}

/// Starts `work` on a parser's thread.
fn spawn(work: impl FnOnce() + Send + 'static) -> Result<(), TooSlow> {
    std::thread::Builder::new()
        .name("b3lake-parse".into())
        .stack_size(STACK)
        .spawn(work)
        .map(drop)
        .map_err(|e| TooSlow::NoThread(e.to_string()))
}

fn within<T: Send + 'static>(limit: Duration, work: impl FnOnce() -> T + Send + 'static) -> Result<T, TooSlow> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    spawn(move || {
        let _ = tx.send(work());
    })?;
    rx.recv_timeout(limit).map_err(|_| TooSlow::Timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_in_time_is_returned_and_a_late_one_refused() {
        assert_eq!(within(Duration::from_secs(5), || 42).unwrap(), 42);
        let started = std::time::Instant::now();
        let late = within(Duration::from_millis(100), || std::thread::sleep(Duration::from_secs(5)));
        assert!(late.is_err());
        assert!(started.elapsed() < Duration::from_secs(2), "the caller did not wait for the work");
    }

    /// While a parse runs, the one worker of a current-thread runtime keeps running other tasks.
    #[tokio::test(flavor = "current_thread")]
    async fn an_async_parse_leaves_the_worker_free() {
        let ticks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = ticks.clone();
        let ticker = tokio::spawn(async move {
            loop {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        let parsed = parse_within_async(|| {
            std::thread::sleep(Duration::from_millis(300));
            7
        })
        .await;
        ticker.abort();
        assert_eq!(parsed.unwrap(), 7);
        assert!(ticks.load(std::sync::atomic::Ordering::Relaxed) >= 10, "the worker was blocked");
    }
}

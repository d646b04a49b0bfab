//! A module's stdout and stderr, turned into log lines of its run.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

use crate::context::{LogLevel, RunContext};
use crate::limits::MAX_LOG_LINE_BYTES;

/// A WASI output stream whose lines go to the run's log at `level`.
pub(crate) struct LogStream {
    ctx: Arc<RunContext>,
    level: LogLevel,
}

impl LogStream {
    pub(crate) fn new(ctx: Arc<RunContext>, level: LogLevel) -> Self {
        Self { ctx, level }
    }
}

impl IsTerminal for LogStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for LogStream {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(LineWriter {
            ctx: self.ctx.clone(),
            level: self.level,
            line: Vec::new(),
        })
    }
}

struct LineWriter {
    ctx: Arc<RunContext>,
    level: LogLevel,
    line: Vec<u8>,
}

impl LineWriter {
    fn emit(&mut self) {
        if !self.line.is_empty() {
            self.ctx
                .log(self.level, &String::from_utf8_lossy(&self.line));
            self.line.clear();
        }
    }
}

impl AsyncWrite for LineWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        for &byte in buf {
            if byte == b'\n' {
                self.emit();
            } else if self.line.len() < MAX_LOG_LINE_BYTES {
                self.line.push(byte);
            }
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.emit();
        Poll::Ready(Ok(()))
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        self.emit();
    }
}

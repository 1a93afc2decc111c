//! Serving over TCP with graceful shutdown.
//!
//! The accept loop is ours (hyper does the HTTP) so that shutdown is complete: on the signal the
//! listener closes (new connections are refused), idle keep-alive connections close, in-flight
//! requests get up to `server.shutdown_timeout` to finish, and connections still busy after that
//! are aborted before the shutdown hooks run.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tower_service::Service;
use turbine_core::Result;

use crate::app::BuiltApp;

impl BuiltApp {
    /// Serves on `listener` until `signal` completes, then stops accepting, lets in-flight
    /// requests finish for up to `server.shutdown_timeout`, runs the shutdown hooks and returns.
    pub async fn serve(
        self,
        listener: TcpListener,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        let server = &self.ctx.config().settings().server;
        let deadline = server.shutdown_timeout;
        let mut builder = auto::Builder::new(TokioExecutor::new());
        // Without a timer hyper enforces no header-read timeout at all.
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(server.header_read_timeout);
        builder.http2().timer(TokioTimer::new());
        let graceful = GracefulShutdown::new();
        let mut connections = JoinSet::new();
        tokio::pin!(signal);
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (tcp, peer) = match accepted {
                        Ok(pair) => pair,
                        Err(e) => {
                            accept_error(e).await;
                            continue;
                        }
                    };
                    let _ = tcp.set_nodelay(true);
                    let router = self.router.clone();
                    let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
                        let mut req = req.map(axum::body::Body::new);
                        req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                        router.clone().call(req)
                    });
                    let conn = builder
                        .serve_connection_with_upgrades(TokioIo::new(tcp), service)
                        .into_owned();
                    let conn = graceful.watch(conn);
                    connections.spawn(async move {
                        let _ = conn.await;
                    });
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
                () = &mut signal => break,
            }
        }
        drop(listener);
        tracing::info!(
            connections = connections.len(),
            "shutting down: no new connections, draining in-flight requests"
        );
        tokio::select! {
            () = graceful.shutdown() => {}
            () = tokio::time::sleep(deadline) => {
                tracing::warn!(
                    deadline = %humantime::format_duration(deadline),
                    "requests still in flight at the shutdown deadline were cut off"
                );
            }
        }
        connections.abort_all();
        while connections.join_next().await.is_some() {}
        self.shutdown().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Per-connection accept errors are the client's problem; others (out of file descriptors) get a
/// pause so the loop does not spin.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed; pausing");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

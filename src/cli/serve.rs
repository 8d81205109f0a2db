//! `serve`: Amazon Athena's API on a local port, over the lake.

use std::net::SocketAddr;

use anyhow::Context;
use b3lake::frontend::serve::sigv4::Key;
use b3lake::frontend::serve::{ServeOptions, Server};
use clap::Args;

use super::{GlueArgs, LakeArg};

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    lake: LakeArg,
    /// Address to listen on. Anything but loopback needs a key pair to sign requests with.
    #[arg(long, default_value = "127.0.0.1:8765")]
    listen: SocketAddr,
    /// Where query results and the query history go (a folder or s3://...) unless a request
    /// names its own [default: LAKE/athena-results/].
    #[arg(long, env = "B3LAKE_SERVE_OUTPUT")]
    output: Option<String>,
    /// Queries run at once; the rest wait QUEUED, as Athena's quota makes them.
    #[arg(long, default_value_t = 20)]
    max_concurrent: usize,
    /// Connections served at once.
    #[arg(long, default_value_t = 256)]
    max_connections: usize,
    /// Refuse statements that change the lake (DDL, CTAS, INSERT INTO, UNLOAD).
    #[arg(long)]
    read_only: bool,
    /// The access key id requests must be signed with (then every request's SigV4 signature is
    /// checked).
    #[arg(long, env = "B3LAKE_SERVE_ACCESS_KEY_ID", requires = "secret_access_key")]
    access_key_id: Option<String>,
    /// Its secret.
    #[arg(long, env = "B3LAKE_SERVE_SECRET_ACCESS_KEY", requires = "access_key_id", hide_env_values = true)]
    secret_access_key: Option<String>,
    #[command(flatten)]
    glue: GlueArgs,
}

impl ServeArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        let key = match (self.access_key_id, self.secret_access_key) {
            (Some(access_key_id), Some(secret_access_key)) => Some(Key { access_key_id, secret_access_key }),
            _ => None,
        };
        let options = ServeOptions {
            database: self.glue.database,
            output: self.output,
            max_concurrent: self.max_concurrent,
            max_connections: self.max_connections,
            read_only: self.read_only,
            key,
            ..Default::default()
        };
        // Before the lake is opened or the port taken.
        options.check_listen(self.listen)?;
        let lake = self.lake.open().await?;
        let server = Server::new(lake, options).await?;
        let listener = tokio::net::TcpListener::bind(self.listen)
            .await
            .with_context(|| format!("listening on {}", self.listen))?;
        // The port, also when the system chose it (`--listen 127.0.0.1:0`), for whoever started us.
        eprintln!("b3lake serve: Athena's API on http://{} (Ctrl-C stops)", listener.local_addr()?);
        let stop = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        server.serve(listener, stop).await?;
        Ok(())
    }
}

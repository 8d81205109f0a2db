//! The front ends' own errors, apart from the engine's: a script's statement that failed and
//! where, a Ctrl-C, Athena's answer, a result that could not be written. The engine's and the
//! crate's errors are kept whole inside, so that a caller can still match them.

use super::script::Position;

/// A front end's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong at a prompt, in a script or asking Athena.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The engine's, the lake's, a chart's: anything below the front ends.
    #[error(transparent)]
    Crate(#[from] crate::Error),
    /// A statement of a script failed: where, and the engine's message.
    #[error("{script}: {position}: {message}")]
    Statement {
        /// The script: a file, `-c #1`, `stdin`.
        script: String,
        /// Where in it.
        position: Position,
        /// The engine's message and its causes.
        message: String,
    },
    /// A script that cannot be split into statements, or a variable that is not set.
    #[error("{script}: {message}")]
    Script {
        /// The script.
        script: String,
        /// What is wrong.
        message: String,
    },
    /// Athena failed the statement, or could not be asked.
    #[error("Athena: {0}")]
    Athena(String),
    /// Ctrl-C stopped the statement.
    #[error("query cancelled")]
    Cancelled,
    /// A command the front end cannot run as written.
    #[error("{0}")]
    Usage(String),
    /// Writing results failed.
    #[error("{path}")]
    Io {
        /// Where they went.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// The layers' errors a front end meets, through the crate's.
macro_rules! through_the_crates_error {
    ($($layer:ty),*) => {$(
        impl From<$layer> for Error {
            fn from(e: $layer) -> Self {
                Error::Crate(e.into())
            }
        }
    )*};
}

through_the_crates_error!(crate::sql::Error, crate::catalog::Error);
#[cfg(feature = "cli")]
through_the_crates_error!(crate::chart::Error);

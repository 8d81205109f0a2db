//! `GetPortfolioDay` over HTTP: the request's parameters are base64 JSON in the path; an
//! answer may come in pages, each retried on its own when B3 fails.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tracing::info;

use super::parse::{self, Page};
use super::{Language, Portfolio, PortfolioError};
use crate::retry::{Attempt, RetryConfig};
use crate::source::http::{self, GetError};

/// B3's index API; `GetPortfolioDay/<base64 parameters>` is appended.
pub const DEFAULT_PORTFOLIO_URL: &str = "https://sistemaswebb3-listados.b3.com.br/indexProxy/indexCall";

/// B3's own site asks for `segment` 2: members grouped by economic segment, with the
/// segment's accumulated weight.
const SEGMENT: u32 = 2;

/// How B3's index API is called.
#[derive(Debug, Clone)]
pub struct PortfolioOptions {
    /// B3's index API, or a mirror of it.
    pub base_url: String,
    /// For each page: 5xx, 429, network errors and cut-off answers.
    pub retry: RetryConfig,
    /// For the connection alone.
    pub connect_timeout: Duration,
    /// For a whole request, body included.
    pub timeout: Duration,
    /// Members per page; B3's site asks for 9999 (everything in one page).
    pub page_size: u32,
}

impl Default for PortfolioOptions {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_PORTFOLIO_URL.to_string(),
            retry: RetryConfig::default(),
            connect_timeout: Duration::from_secs(15),
            timeout: Duration::from_secs(60),
            page_size: 9999,
        }
    }
}

/// A client of B3's `GetPortfolioDay`.
pub struct PortfolioClient {
    client: reqwest::Client,
    opts: PortfolioOptions,
}

impl PortfolioClient {
    /// A client with its HTTP connection pool.
    pub fn new(opts: PortfolioOptions) -> Result<Self, PortfolioError> {
        let client = http::client(opts.connect_timeout, opts.timeout).map_err(|source| PortfolioError::Network {
            url: opts.base_url.clone(),
            source,
            attempts: 0,
        })?;
        Ok(Self { client, opts })
    }

    /// The URL of one page: `.../GetPortfolioDay/` and the parameters' JSON in base64.
    pub fn url(&self, index: &str, language: Language, page: u32) -> String {
        // In the order B3's own site sends them (a JSON object would sort the keys).
        let index = serde_json::Value::from(index);
        let params = format!(
            r#"{{"pageNumber":{page},"pageSize":{},"language":"{language}","index":{index},"segment":{SEGMENT}}}"#,
            self.opts.page_size
        );
        let encoded = STANDARD.encode(params);
        format!("{}/GetPortfolioDay/{encoded}", self.opts.base_url.trim_end_matches('/'))
    }

    /// Every page of the index's current portfolio.
    pub async fn fetch(&self, index: &str, language: Language) -> Result<Portfolio, PortfolioError> {
        let first_url = self.url(index, language, 1);
        let first = self.page(&first_url).await?;
        let pages_total = first.page.total_pages.unwrap_or(1).max(1);
        let mut pages = vec![first];
        for number in 2..=pages_total {
            let url = self.url(index, language, number);
            let page = self.page(&url).await?;
            if page.page.page_number.is_some_and(|n| n != number) {
                return Err(PortfolioError::Inconsistent {
                    origin: url,
                    detail: format!("asked for page {number}, B3 answered page {}", page.page.page_number.unwrap_or(0)),
                });
            }
            pages.push(page);
        }
        let portfolio = parse::portfolio(pages, index, language, &first_url)?;
        info!(index, %language, date = %portfolio.date, members = portfolio.members.len(), pages = pages_total, "portfolio fetched");
        Ok(portfolio)
    }

    async fn page(&self, url: &str) -> Result<Page, PortfolioError> {
        self.opts.retry.run(url, |n| self.try_page(url, n)).await
    }

    async fn try_page(&self, url: &str, attempts: u32) -> Result<Page, Attempt<PortfolioError>> {
        let url = url.to_string();
        let body = http::get(&self.client, &url).await.map_err(|e| {
            e.attempt(|e| match e {
                GetError::Network(source) => PortfolioError::Network { url: url.clone(), source, attempts },
                GetError::Status(status) => {
                    PortfolioError::Status { url: url.clone(), status: status.as_u16(), attempts }
                }
                // A body that breaks off (the connection closes early) is cut short, not a network error.
                e @ (GetError::Body(_) | GetError::Length { .. }) => {
                    PortfolioError::Truncated { url: url.clone(), detail: e.to_string(), attempts }
                }
            })
        })?;
        parse::page(&body, &url).map_err(|e| match e {
            // JSON that ends early is a body cut short without a length: try again.
            PortfolioError::Malformed { detail, .. } if detail.contains("EOF") => Attempt::Retry {
                error: PortfolioError::Truncated { url: url.clone(), detail: detail.clone(), attempts },
                detail,
            },
            e => Attempt::Final(e),
        })
    }
}

/// A saved answer (one whole page, as `GetPortfolioDay` sent it).
pub fn read_file(path: &Path, index: &str, language: Language) -> Result<Portfolio, PortfolioError> {
    let origin = path.display().to_string();
    let body = std::fs::read(path).map_err(|source| PortfolioError::Io { path: origin.clone(), source })?;
    read_answer(&body, &origin, index, language)
}

/// One whole answer's bytes (`origin` names it in errors).
pub fn read_answer(body: &[u8], origin: &str, index: &str, language: Language) -> Result<Portfolio, PortfolioError> {
    let origin = origin.to_string();
    let page = parse::page(body, &origin)?;
    if let Some(pages) = page.page.total_pages
        && pages > 1
    {
        return Err(PortfolioError::Inconsistent {
            origin,
            detail: format!("the file holds page 1 of {pages}; save the answer with pageSize 9999"),
        });
    }
    parse::portfolio(vec![page], index, language, &origin)
}

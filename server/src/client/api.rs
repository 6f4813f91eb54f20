//! [`ApiClient`]: typed requests to the control server's `/api/v1`, with
//! errors that say what to do next.

use std::fmt;

use bi_model::FieldError;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::local::LocalApi;
use bi_api::ErrorBody;

/// A client of one control server.
#[derive(Debug, Clone)]
pub struct ApiClient {
    base: url::Url,
    http: reqwest::Client,
    /// What the client trusts for https:// servers (and wss://).
    tls: std::sync::Arc<rustls::ClientConfig>,
    /// The API token sent as `Authorization: Bearer`.
    token: Option<Token>,
    /// The same API served in this process over the data directory, used
    /// when nobody answers at `base` (see [`crate::client::local`]).
    local: Option<LocalApi>,
}

/// An API token; its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(pub String);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// One answer of the API, whichever way it came.
struct Answer {
    url: String,
    status: StatusCode,
    body: Vec<u8>,
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// `--server` is not an http(s) URL.
    #[error("--server {0:?} is not an http:// or https:// URL (set --server or BI_SERVER)")]
    BadServer(String),
    /// The TLS settings (`--ca-cert`) cannot be used.
    #[error("{0}")]
    Tls(String),
    /// Nobody answers at the server's address.
    #[error(
        "cannot reach the control server at {server}: is `bi start` running? (set --server or BI_SERVER)"
    )]
    Unreachable {
        /// The server asked.
        server: String,
    },
    /// Nobody answers, and what was asked needs the cluster (which only a
    /// running server reaches).
    #[error(
        "cannot reach the control server at {server}, and {what} needs it: start it with `bi start` (or set --server or BI_SERVER)"
    )]
    NeedsServer {
        /// The server asked.
        server: String,
        /// What needed it.
        what: String,
    },
    /// The server wants to know who asks (401).
    #[error(
        "{message}\n  sign in with `bi login --server {server}` (or set BI_TOKEN to an API token)"
    )]
    SignIn {
        /// The server asked.
        server: String,
        /// The server's message.
        message: String,
    },
    /// The server refused the change (422); nothing was stored.
    #[error("{}", Refusal(.0))]
    Rejected(Vec<FieldError>),
    /// What the change was based on (`--expected-version`) changed
    /// meanwhile (409); nothing was stored.
    #[error("{message}{}", Changes(.changes))]
    ChangedMeanwhile {
        /// The server's message: which versions, by whom.
        message: String,
        /// Each changed field, with its value then and now.
        changes: Vec<FieldError>,
    },
    /// The server answered with an error.
    #[error("{message} (HTTP {status})")]
    Failed {
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// The answer could not be read.
    #[error("cannot read the control server's answer from {url}: {reason}")]
    Decode {
        /// What was asked.
        url: String,
        /// Why.
        reason: String,
    },
}

/// The fields that changed meanwhile, one `field: message` per line.
struct Changes<'a>(&'a [FieldError]);

impl fmt::Display for Changes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for change in self.0 {
            write!(f, "\n  {}: {}", change.field, change.message)?;
        }
        Ok(())
    }
}

/// A refusal's problems, one `field: message` per line.
struct Refusal<'a>(&'a [FieldError]);

impl fmt::Display for Refusal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("refused, nothing was changed:")?;
        for problem in self.0 {
            if problem.field.is_empty() {
                write!(f, "\n  {}", problem.message)?;
            } else {
                write!(f, "\n  {}: {}", problem.field, problem.message)?;
            }
        }
        Ok(())
    }
}

impl ApiClient {
    /// A client of the server at `server` (`http://host:port` or
    /// `https://…`), trusting the system's roots and, for https, the CA
    /// certificate `ca` (PEM) when given.
    pub fn new(server: &str, ca: Option<&std::path::Path>) -> Result<Self, ClientError> {
        let base =
            url::Url::parse(server).map_err(|_| ClientError::BadServer(server.to_owned()))?;
        if !matches!(base.scheme(), "http" | "https") || base.host().is_none() {
            return Err(ClientError::BadServer(server.to_owned()));
        }
        let tls =
            crate::tls::client_config(ca).map_err(|err| ClientError::Tls(format!("{err:#}")))?;
        let tls = std::sync::Arc::new(tls);
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured((*tls).clone())
            .build()
            .map_err(|err| ClientError::Tls(format!("cannot set up the HTTP client: {err}")))?;
        Ok(Self {
            base,
            http,
            tls,
            token: None,
            local: None,
        })
    }

    /// Sends `token` as `Authorization: Bearer` with every request.
    pub fn with_token(mut self, token: Option<Token>) -> Self {
        self.token = token;
        self
    }

    /// The token this client sends, if any.
    pub fn token(&self) -> Option<&Token> {
        self.token.as_ref()
    }

    /// Opens the websocket at `path`, with the token.
    pub async fn websocket(
        &self,
        path: &str,
    ) -> Result<
        tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
        ClientError,
    > {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let server = self.base.as_str().trim_end_matches('/').to_owned();
        let url = self.websocket_url(path)?;
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|_| ClientError::BadServer(server.clone()))?;
        if let Some(token) = &self.token
            && let Ok(value) = http::HeaderValue::from_str(&format!("Bearer {}", token.0))
        {
            request
                .headers_mut()
                .insert(http::header::AUTHORIZATION, value);
        }
        let connector = tokio_tungstenite::Connector::Rustls(self.tls.clone());
        match tokio_tungstenite::connect_async_tls_with_config(
            request,
            None,
            false,
            Some(connector),
        )
        .await
        {
            Ok((socket, _)) => Ok(socket),
            Err(tokio_tungstenite::tungstenite::Error::Http(response))
                if response.status() == http::StatusCode::UNAUTHORIZED =>
            {
                Err(ClientError::SignIn {
                    server,
                    message: "the control server wants to know who asks".into(),
                })
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(ClientError::Failed {
                    status: response.status().as_u16(),
                    message: String::from_utf8_lossy(
                        response.body().as_deref().unwrap_or_default(),
                    )
                    .into_owned(),
                })
            }
            Err(_) => Err(ClientError::Unreachable { server }),
        }
    }

    /// `PATCH path` with a JSON body, decoded.
    pub async fn patch<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.send(Method::PATCH, path, Some(body)).await
    }

    /// `DELETE path`, ignoring the answer's body.
    pub async fn delete_empty(&self, path: &str) -> Result<(), ClientError> {
        self.request::<()>(Method::DELETE, path, None)
            .await
            .map(|_| ())
    }

    /// Falls back to `local` (the API served in this process over the data
    /// directory) when the server does not answer.
    pub fn with_local_fallback(mut self, local: LocalApi) -> Self {
        self.local = Some(local);
        self
    }

    /// Whether a control server answers its health check.
    pub async fn reachable(&self) -> bool {
        let Ok(url) = self.url("/healthz") else {
            return false;
        };
        self.http
            .get(url)
            .timeout(std::time::Duration::from_secs(3))
            .send()
            .await
            .is_ok_and(|response| response.status().is_success())
    }

    /// The server's base URL.
    pub fn server(&self) -> &url::Url {
        &self.base
    }

    /// The URL of `path` (`/api/v1/…`) on the server.
    pub fn url(&self, path: &str) -> Result<url::Url, ClientError> {
        self.base
            .join(path)
            .map_err(|_| ClientError::BadServer(self.base.to_string()))
    }

    /// The websocket URL of `path` on the server.
    pub fn websocket_url(&self, path: &str) -> Result<url::Url, ClientError> {
        let mut url = self.url(path)?;
        let scheme = if self.base.scheme() == "https" {
            "wss"
        } else {
            "ws"
        };
        url.set_scheme(scheme)
            .map_err(|()| ClientError::BadServer(self.base.to_string()))?;
        Ok(url)
    }

    /// `GET path`, decoded.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.send::<(), T>(Method::GET, path, None).await
    }

    /// `GET path` as text.
    pub async fn get_text(&self, path: &str) -> Result<String, ClientError> {
        let answer = self.request::<()>(Method::GET, path, None).await?;
        String::from_utf8(answer.body).map_err(|err| ClientError::Decode {
            url: answer.url,
            reason: err.to_string(),
        })
    }

    /// `POST path` with a JSON body, decoded.
    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.send(Method::POST, path, Some(body)).await
    }

    /// `PUT path` with a JSON body, decoded.
    pub async fn put<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.send(Method::PUT, path, Some(body)).await
    }

    /// `DELETE path`, decoded.
    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.send::<(), T>(Method::DELETE, path, None).await
    }

    async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        let answer = self.request(method, path, body).await?;
        serde_json::from_slice::<T>(&answer.body).map_err(|err| ClientError::Decode {
            url: answer.url,
            reason: err.to_string(),
        })
    }

    async fn request<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<Answer, ClientError> {
        let url = self.url(path)?;
        let mut request = self.http.request(method.clone(), url.clone());
        if let Some(token) = &self.token {
            request = request.bearer_auth(&token.0);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer = match request.send().await {
            Ok(response) => {
                let status = response.status();
                let body = response.bytes().await.map_err(|err| ClientError::Decode {
                    url: url.to_string(),
                    reason: err.to_string(),
                })?;
                Answer {
                    url: url.to_string(),
                    status,
                    body: body.to_vec(),
                }
            }
            Err(_) => {
                let server = self.base.as_str().trim_end_matches('/').to_owned();
                let Some(local) = &self.local else {
                    return Err(ClientError::Unreachable { server });
                };
                let body = body.map(serde_json::to_vec).transpose().map_err(|err| {
                    ClientError::Decode {
                        url: url.to_string(),
                        reason: err.to_string(),
                    }
                })?;
                let (status, body) = local.call(&method, path, body, &server).await?;
                Answer {
                    url: format!("{} (offline, {})", path, local.describe()),
                    status,
                    body,
                }
            }
        };
        self.check(answer)
    }

    /// `GET path` whose body comes in chunks while the server writes it (a
    /// followed log): the response, once the server answered with success.
    pub async fn get_chunks(&self, path: &str) -> Result<reqwest::Response, ClientError> {
        let url = self.url(path)?;
        let mut request = self.http.get(url.clone());
        if let Some(token) = &self.token {
            request = request.bearer_auth(&token.0);
        }
        let response = request.send().await.map_err(|_| ClientError::Unreachable {
            server: self.base.as_str().trim_end_matches('/').to_owned(),
        })?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map(|b| b.to_vec())
            .unwrap_or_default();
        Err(self.refusal(status, &body))
    }

    /// The answer when it is a success, else the error it says.
    fn check(&self, answer: Answer) -> Result<Answer, ClientError> {
        if answer.status.is_success() {
            return Ok(answer);
        }
        Err(self.refusal(answer.status, &answer.body))
    }

    /// The error a failed answer says.
    fn refusal(&self, status: StatusCode, body: &[u8]) -> ClientError {
        let text = String::from_utf8_lossy(body).into_owned();
        let detail = serde_json::from_str::<ErrorBody>(&text)
            .ok()
            .map(|b| b.error);
        match (status, detail) {
            (StatusCode::UNAUTHORIZED, detail) => ClientError::SignIn {
                server: self.base.as_str().trim_end_matches('/').to_owned(),
                message: detail.map_or_else(
                    || "the control server wants to know who asks".to_owned(),
                    |d| d.message,
                ),
            },
            (StatusCode::UNPROCESSABLE_ENTITY, Some(detail)) if !detail.problems.is_empty() => {
                ClientError::Rejected(detail.problems)
            }
            (StatusCode::CONFLICT, Some(detail)) if !detail.problems.is_empty() => {
                ClientError::ChangedMeanwhile {
                    message: detail.message,
                    changes: detail.problems,
                }
            }
            (status, Some(detail)) => ClientError::Failed {
                status: status.as_u16(),
                message: detail.message,
            },
            (status, None) => ClientError::Failed {
                status: status.as_u16(),
                message: if text.trim().is_empty() {
                    status.canonical_reason().unwrap_or("error").to_owned()
                } else {
                    text.trim().to_owned()
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bi_model::Rule;

    #[test]
    fn a_refusal_lists_each_problem_as_field_and_message() {
        let err = ClientError::Rejected(vec![
            FieldError::new("grafana.storage", Rule::Unit, "\"500\" has no unit"),
            FieldError::new("", Rule::Required, "say what to change"),
        ]);
        assert_eq!(
            err.to_string(),
            "refused, nothing was changed:\n  grafana.storage: \"500\" has no unit\n  say what to change"
        );
    }

    #[test]
    fn only_http_servers_are_accepted() {
        assert!(ApiClient::new("http://127.0.0.1:3000", None).is_ok());
        assert!(ApiClient::new("https://bi.example.com", None).is_ok());
        assert!(matches!(
            ApiClient::new("127.0.0.1:3000", None),
            Err(ClientError::BadServer(_))
        ));
    }
}

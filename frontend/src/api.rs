//! Every request to the server, in one place (gloo-net). State-changing requests carry the
//! session's CSRF token; errors come back in the API's one error format.

use gloo_net::http::{Method, Request, RequestBuilder};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::cell::RefCell;

thread_local! {
    /// The CSRF token of the current session (set at login and when the session is loaded).
    static CSRF: RefCell<Option<String>> = const { RefCell::new(None) };
}

pub fn set_csrf(token: Option<String>) {
    CSRF.with(|c| *c.borrow_mut() = token);
}

/// An error as the API reports it, or a network failure.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub field: Option<String>,
    /// Everything else the error carried (differences, diagnostics, ...).
    #[serde(flatten)]
    pub details: serde_json::Map<String, serde_json::Value>,
    #[serde(skip)]
    pub status: u16,
}

/// One of the problems a refusal lists (a policy's or a workflow's `diagnostics`).
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// An error, or else a warning.
    pub error: bool,
    /// Where it is: `rules[2].approver`, `transitions[0].guard`.
    pub path: String,
    pub message: String,
}

impl ApiError {
    /// The problems the server listed with this error, if any.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let text = |d: &serde_json::Value, key: &str| {
            d.get(key).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned()
        };
        self.details
            .get("diagnostics")
            .and_then(serde_json::Value::as_array)
            .map(|list| {
                list.iter()
                    .map(|d| Diagnostic {
                        error: text(d, "severity") != "warning",
                        path: text(d, "path"),
                        message: text(d, "message"),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn network(e: impl std::fmt::Display) -> ApiError {
        ApiError {
            code: "network".into(),
            message: format!("the server could not be reached: {e}"),
            ..ApiError::default()
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    error: ApiError,
}

async fn run<T: DeserializeOwned>(
    builder: RequestBuilder,
    body: Option<String>,
) -> Result<T, ApiError> {
    let request = match body {
        Some(b) => builder.header("content-type", "application/json").body(b),
        None => builder.build(),
    }
    .map_err(ApiError::network)?;
    answer(request).await
}

/// Sends a request and reads its answer: the value, or the API's error.
async fn answer<T: DeserializeOwned>(request: Request) -> Result<T, ApiError> {
    let response = request.send().await.map_err(ApiError::network)?;
    let status = response.status();
    let text = response.text().await.map_err(ApiError::network)?;
    if (200..300).contains(&status) {
        let text = if text.is_empty() { "null" } else { &text };
        serde_json::from_str(text).map_err(|e| ApiError {
            code: "unexpected".into(),
            message: format!("the server's answer could not be read: {e}"),
            status,
            ..ApiError::default()
        })
    } else {
        let mut error =
            serde_json::from_str::<Envelope>(&text).map(|e| e.error).unwrap_or_else(|_| ApiError {
                code: "http".into(),
                message: format!("the server answered {status}"),
                ..ApiError::default()
            });
        error.status = status;
        Err(error)
    }
}

fn builder(method: Method, path: &str) -> RequestBuilder {
    let mut b = RequestBuilder::new(path).method(method.clone());
    if method != Method::GET
        && let Some(token) = CSRF.with(|c| c.borrow().clone())
    {
        b = b.header("x-csrf-token", &token);
    }
    b
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    run(builder(Method::GET, path), None).await
}

fn json<B: Serialize>(body: &B) -> Result<String, ApiError> {
    serde_json::to_string(body).map_err(|e| ApiError {
        code: "client".into(),
        message: e.to_string(),
        ..ApiError::default()
    })
}

pub async fn send<T: DeserializeOwned, B: Serialize>(
    method: Method,
    path: &str,
    body: &B,
) -> Result<T, ApiError> {
    run(builder(method, path), Some(json(body)?)).await
}

/// The most a page may have in flight with `keepalive` (the Fetch standard's 64 KiB), less a
/// margin for other such requests.
const KEEPALIVE_MAX: usize = 60 * 1024;

/// Like [`send`], but the browser delivers the request even if the page is closed or left
/// meanwhile (`keepalive`), for what must not be lost when the user goes (the cart). A body
/// above what `keepalive` allows goes as an ordinary request.
pub async fn send_keepalive<T: DeserializeOwned, B: Serialize>(
    method: Method,
    path: &str,
    body: &B,
) -> Result<T, ApiError> {
    let text = json(body)?;
    if text.len() > KEEPALIVE_MAX {
        return run(builder(method, path), Some(text)).await;
    }
    // gloo-net's builder has no `keepalive`, nor has web-sys's `RequestInit`: the dictionary
    // is a plain object, so the member is set on it directly.
    let set = |target: &wasm_bindgen::JsValue, key: &str, value: wasm_bindgen::JsValue| {
        js_sys::Reflect::set(target, &key.into(), &value).map(|_| ())
    };
    let init = web_sys::RequestInit::new();
    init.set_method(method.as_str());
    init.set_body(&text.into());
    let headers = js_sys::Object::new();
    let csrf = CSRF.with(|c| c.borrow().clone());
    set(&headers, "content-type", "application/json".into())
        .and_then(|()| match csrf {
            Some(token) => set(&headers, "x-csrf-token", token.into()),
            None => Ok(()),
        })
        .and_then(|()| set(&init, "keepalive", true.into()))
        .map_err(|e| ApiError::network(format!("{e:?}")))?;
    init.set_headers(&headers);
    let request = web_sys::Request::new_with_str_and_init(path, &init)
        .map_err(|e| ApiError::network(format!("{e:?}")))?;
    answer(Request::from(request)).await
}

/// `DELETE`, reading what the server says it did.
pub async fn delete_answered<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    run(builder(Method::DELETE, path), None).await
}

pub async fn delete(path: &str) -> Result<(), ApiError> {
    run::<serde_json::Value>(builder(Method::DELETE, path), None).await.map(|_| ())
}

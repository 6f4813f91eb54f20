//! Kubernetes `Status` errors: every refusal of the sandbox API is a `Status`
//! object with the code and reason a real API server would use, so kube-rs
//! turns it into `kube::Error::Api` and kubectl prints the usual message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::discovery::ResourceType;

/// A refused request, answered as a Kubernetes `Status` (or, for a path no
/// API group serves, the plain-text `404 page not found` a real server sends).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    /// HTTP status code (404, 409, 422…).
    pub(crate) code: u16,
    /// Kubernetes' machine-readable reason (`NotFound`, `Conflict`…).
    pub(crate) reason: &'static str,
    /// The human sentence.
    pub(crate) message: String,
    /// `details` (name, group, kind), when the error is about one object.
    pub(crate) details: Option<Value>,
    /// Answered as plain text rather than a `Status`.
    pub(crate) plain: bool,
    /// The `Retry-After` header (seconds), when it asks the client to wait.
    pub(crate) retry_after: Option<u32>,
}

/// `Result` with [`ApiError`].
pub(crate) type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
            plain: false,
            retry_after: None,
        }
    }

    fn about(mut self, rt: &ResourceType, name: &str) -> Self {
        let mut details = json!({ "name": name, "kind": rt.plural });
        if !rt.group.is_empty() {
            details["group"] = json!(rt.group);
        }
        self.details = Some(details);
        self
    }

    /// 404: `deployments.apps "web" not found`.
    pub(crate) fn not_found(rt: &ResourceType, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", rt.qualified()),
        )
        .about(rt, name)
    }

    /// 404 for a namespaced object whose namespace does not exist.
    pub(crate) fn namespace_not_found(namespace: &str) -> Self {
        let mut error = Self::new(
            404,
            "NotFound",
            format!("namespaces \"{namespace}\" not found"),
        );
        error.details = Some(json!({ "name": namespace, "kind": "namespaces" }));
        error
    }

    /// 404 for a path in a served API group that names no resource there
    /// (an unknown version or resource, a subresource the kind lacks).
    pub(crate) fn no_route() -> Self {
        let mut error = Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        );
        error.details = Some(json!({}));
        error
    }

    /// 404 for a path no API group serves (`/apis/<unknown group>/…`, `/foo`):
    /// a real API server's catch-all answers in plain text, not with a `Status`.
    pub(crate) fn page_not_found() -> Self {
        let mut error = Self::new(404, "NotFound", "404 page not found");
        error.plain = true;
        error
    }

    /// 403 Forbidden: a new object in a namespace that is being deleted.
    pub(crate) fn namespace_terminating(rt: &ResourceType, name: &str, namespace: &str) -> Self {
        let mut error = Self::new(
            403,
            "Forbidden",
            format!(
                "{} \"{name}\" is forbidden: unable to create new content in namespace {namespace} because it is being terminated",
                rt.qualified()
            ),
        )
        .about(rt, name);
        if let Some(details) = error.details.as_mut() {
            details["causes"] = json!([{
                "reason": "NamespaceTerminating",
                "message": format!("namespace {namespace} is being terminated"),
                "field": "metadata.namespace",
            }]);
        }
        error
    }

    /// 409 Conflict of a server-side apply: fields another manager owns,
    /// as `(manager, field)`; the manager already says `"name"` (and `using
    /// <apiVersion>` when it is an update's).
    pub(crate) fn apply_conflicts(conflicts: &[(String, String)]) -> Self {
        let count = conflicts.len();
        let plural = if count == 1 { "" } else { "s" };
        let listed = if count == 1 {
            conflicts
                .iter()
                .map(|(manager, field)| format!("conflict with {manager}: {field}"))
                .collect::<String>()
        } else {
            conflicts
                .iter()
                .map(|(manager, field)| format!("\n- conflict with {manager}: {field}"))
                .collect::<String>()
        };
        let mut error = Self::new(
            409,
            "Conflict",
            format!("Apply failed with {count} conflict{plural}: {listed}"),
        );
        let causes: Vec<Value> = conflicts
            .iter()
            .map(|(manager, field)| {
                json!({
                    "reason": "FieldManagerConflict",
                    "message": format!("conflict with {manager}"),
                    "field": field,
                })
            })
            .collect();
        error.details = Some(json!({ "causes": causes }));
        error
    }

    /// 400 BadRequest of strict field validation: the body has fields the
    /// kind does not declare (`unknown field "spec.foo"`, …).
    pub(crate) fn unknown_fields(rt: &ResourceType, fields: &[String]) -> Self {
        let listed = fields
            .iter()
            .map(|field| format!("unknown field \"{field}\""))
            .collect::<Vec<_>>()
            .join(", ");
        Self::new(
            400,
            "BadRequest",
            format!(
                "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: {listed}",
                kind = rt.kind,
                version = rt.version,
            ),
        )
    }

    /// 500 of a server-side apply whose body has fields the kind does not
    /// declare: a real server cannot build the typed patch (it names the
    /// namespace and name the body gives, and the group even when empty).
    pub(crate) fn undeclared_field(
        rt: &ResourceType,
        namespace: &str,
        name: &str,
        field: &str,
    ) -> Self {
        let mut error = Self::new(
            500,
            "InternalError",
            format!(
                "failed to create typed patch object ({namespace}/{name}; {}/{}, Kind={}): {field}: field not declared in schema",
                rt.group, rt.version, rt.kind
            ),
        );
        error.reason = "";
        error
    }

    /// 422 of a patch whose result has fields the kind does not declare,
    /// under Strict validation.
    pub(crate) fn unknown_fields_in_patch(patched: &Value, fields: &[String]) -> Self {
        let listed = fields
            .iter()
            .map(|field| format!("unknown field \"{field}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let why = format!(
            "patch: Invalid value: {:?}: strict decoding error: {listed}",
            patched.to_string()
        );
        let mut error = Self::new(422, "Invalid", format!(" \"\" is invalid: {why}"));
        error.details = Some(json!({ "causes": [cause(&why)] }));
        error
    }

    /// 422 of a write option the server does not know (`fieldValidation=Bogus`).
    pub(crate) fn invalid_option(options: &str, why: &str) -> Self {
        let mut error = Self::new(
            422,
            "Invalid",
            format!("{options}.meta.k8s.io \"\" is invalid: {why}"),
        );
        error.details = Some(json!({
            "group": "meta.k8s.io",
            "kind": options,
            "causes": [cause(why)],
        }));
        error
    }

    /// 409 AlreadyExists.
    pub(crate) fn already_exists(rt: &ResourceType, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", rt.qualified()),
        )
        .about(rt, name)
    }

    /// 409 Conflict: a stale resourceVersion or a failed precondition.
    pub(crate) fn conflict(rt: &ResourceType, name: &str, why: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": {why}",
                rt.qualified()
            ),
        )
        .about(rt, name)
    }

    /// 422 Invalid: the object breaks a rule (missing name, wrong kind…);
    /// `why` is `field: Reason: detail`, as a real server words a cause.
    pub(crate) fn invalid(rt: &ResourceType, name: &str, why: &str) -> Self {
        Self::invalid_causes(rt, name, &[why.to_owned()])
    }

    /// 422 Invalid with several causes, each `field: Reason: detail`.
    pub(crate) fn invalid_causes(rt: &ResourceType, name: &str, whys: &[String]) -> Self {
        let kind = if rt.group.is_empty() {
            rt.kind.clone()
        } else {
            format!("{}.{}", rt.kind, rt.group)
        };
        let listed = match whys {
            [one] => one.clone(),
            many => format!("[{}]", many.join(", ")),
        };
        let mut error = Self::new(
            422,
            "Invalid",
            format!("{kind} \"{name}\" is invalid: {listed}"),
        );
        let causes: Vec<Value> = whys.iter().map(|why| cause(why)).collect();
        let mut details = json!({ "kind": rt.kind, "causes": causes });
        if !name.is_empty() {
            details["name"] = json!(name);
        }
        if !rt.group.is_empty() {
            details["group"] = json!(rt.group);
        }
        error.details = Some(details);
        error
    }

    /// 422 Invalid without details: a JSON patch whose operations fail.
    pub(crate) fn rejected() -> Self {
        Self::new(
            422,
            "Invalid",
            "the server rejected our request due to an error in our request",
        )
    }

    /// 400 BadRequest: a body that is not an object of the URL's kind.
    pub(crate) fn unrecognized_body(rt: &ResourceType, why: &str) -> Self {
        Self::new(
            400,
            "BadRequest",
            format!(
                "the object provided is unrecognized (must be of type {}): couldn't get version/kind; json parse error: {why}",
                rt.kind
            ),
        )
    }

    /// 400 BadRequest: a malformed selector, query parameter or body.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 415 UnsupportedMediaType: a patch type the sandbox does not know.
    pub(crate) fn unsupported_media_type(_content_type: &str) -> Self {
        Self::new(415, "UnsupportedMediaType", "415: Unsupported Media Type")
    }

    /// 415 UnsupportedMediaType: a body encoding the sandbox cannot read (protobuf, CBOR).
    pub(crate) fn unsupported_body(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the bi sandbox reads JSON and YAML bodies only, not {content_type:?} (use kubectl apply -f or kubectl create -f)"
            ),
        )
    }

    /// 405 MethodNotAllowed.
    pub(crate) fn method_not_allowed(_method: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    }

    /// 410 Expired: a watch asked for events older than the kept history.
    pub(crate) fn expired(resource_version: u64) -> Self {
        Self::new(
            410,
            "Expired",
            format!("too old resource version: {resource_version}"),
        )
    }

    /// 500 InternalError: the sandbox itself failed (e.g. persisting).
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    /// What API Priority and Fairness answers a request it rejects: 429 in
    /// plain text with `Retry-After` (kube-apiserver's `tooManyRequests`).
    pub(crate) fn throttled(retry_after: u32) -> Self {
        Self {
            plain: true,
            retry_after: Some(retry_after),
            ..Self::new(
                429,
                "TooManyRequests",
                "Too many requests, please try again later.",
            )
        }
    }

    /// An injected fault's refusal, with the reason a real server gives
    /// for its code.
    pub(crate) fn injected(code: u16, message: String) -> Self {
        let reason = match code {
            400 => "BadRequest",
            403 => "Forbidden",
            404 => "NotFound",
            409 => "Conflict",
            422 => "Invalid",
            429 => "TooManyRequests",
            503 => "ServiceUnavailable",
            504 => "Timeout",
            _ => "InternalError",
        };
        Self::new(code, reason, message)
    }

    /// The `Status` object.
    pub(crate) fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "code": self.code,
        });
        if !self.reason.is_empty() {
            status["reason"] = json!(self.reason);
        }
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status
    }
}

/// One `causes` entry from `field: Reason: detail` (or a bare sentence).
fn cause(why: &str) -> Value {
    let Some((field, message)) = why.split_once(": ") else {
        return json!({ "message": why });
    };
    let reason = [
        ("Required value", "FieldValueRequired"),
        ("Unsupported value", "FieldValueNotSupported"),
        ("Forbidden", "FieldValueForbidden"),
        ("Duplicate value", "FieldValueDuplicate"),
        ("Too long", "FieldValueTooLong"),
        ("Too many", "FieldValueTooMany"),
        ("Invalid value", "FieldValueInvalid"),
    ]
    .iter()
    .find(|(prefix, _)| message.starts_with(prefix))
    .map_or("FieldValueInvalid", |(_, reason)| reason);
    json!({ "reason": reason, "message": message, "field": field })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = if self.plain {
            (
                code,
                [(
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; charset=utf-8",
                )],
                format!("{}\n", self.message),
            )
                .into_response()
        } else {
            (code, axum::Json(self.to_status())).into_response()
        };
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

//! The HTTP layer: thin handlers over the domain modules. JSON everywhere; errors are
//! [`error::ApiError`]; every route is counted in `/metrics`.

pub mod addresses;
pub mod coverage;
pub mod divisions;
pub mod error;
pub mod facilities;
pub mod inspection;
pub mod metrics;
pub mod openapi;
pub mod params;
pub mod rawuri;
pub mod tiles;
pub mod transform;

use crate::divisions::Divisions;
use actix_web::{dev::Service, web, App, HttpResponse};
use error::ApiError;
use metrics::Metrics;
use parking_lot::RwLock;
use std::sync::Arc;
use std::time::Instant;

/// Largest JSON body accepted (bytes).
pub const MAX_JSON_BYTES: usize = 32 << 20;

/// Service configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub bind: String,
    pub data_dir: std::path::PathBuf,
    pub database_url: Option<String>,
    /// bearer token for write endpoints (None: writes are refused)
    pub api_token: Option<String>,
}

/// Shared state of the running service.
pub struct AppState {
    pub divisions: RwLock<Arc<Divisions>>,
    pub addresses: RwLock<Arc<crate::addresses::AddressBook>>,
    pub facilities: crate::facilities::FacilityRegistry,
    pub tiles: crate::tiles::TileService,
    pub coverage: crate::coverage::CoverageState,
    pub metrics: Metrics,
    pub started: Instant,
    pub config: Config,
}

impl AppState {
    pub fn new(divisions: Divisions, config: Config) -> AppState {
        AppState {
            divisions: RwLock::new(Arc::new(divisions)),
            addresses: RwLock::new(Arc::new(Default::default())),
            facilities: Default::default(),
            tiles: Default::default(),
            coverage: Default::default(),
            metrics: Metrics::default(),
            started: Instant::now(),
            config,
        }
    }
    /// The current division layer (cheap clone of an Arc).
    pub fn divisions(&self) -> Arc<Divisions> {
        self.divisions.read().clone()
    }
    /// Checks `Authorization: Bearer <token>` for write endpoints.
    pub fn check_token(&self, req: &actix_web::HttpRequest) -> Result<(), ApiError> {
        let Some(want) = self.config.api_token.as_deref() else {
            return Err(ApiError::unauthorized(
                "writes are disabled: no API token is configured (DIMING_API_TOKEN)",
            ));
        };
        let got = req
            .headers()
            .get("authorization")
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim);
        match got {
            Some(t) if constant_time_eq(t.as_bytes(), want.as_bytes()) => Ok(()),
            Some(_) => Err(ApiError::unauthorized("bearer token is not valid")),
            None => Err(ApiError::unauthorized(
                "missing 'Authorization: Bearer <token>' header",
            )),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Registers every route of the service.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(MAX_JSON_BYTES)
            .error_handler(error::json_error),
    )
    .app_data(web::QueryConfig::default().error_handler(error::query_error))
    .app_data(web::PathConfig::default().error_handler(error::path_error))
    .route("/healthz", web::get().to(healthz))
    .route("/metrics", web::get().to(metrics_handler))
    .route("/v1/openapi.json", web::get().to(openapi::handler));
    divisions::configure(cfg);
    addresses::configure(cfg);
    transform::configure(cfg);
    inspection::configure(cfg);
    tiles::configure(cfg);
    facilities::configure(cfg);
    coverage::configure(cfg);
}

async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let d = state.divisions();
    let (polys, verts, _) = d.stats();
    HttpResponse::Ok().json(serde_json::json!({
        "status": "ok",
        "uptime_s": state.started.elapsed().as_secs_f64(),
        "data": d.origin,
        "divisions": d.tree.len(),
        "polygons": polys,
        "vertices": verts,
    }))
}

async fn metrics_handler(state: web::Data<AppState>) -> HttpResponse {
    let d = state.divisions();
    let (polys, verts, mem) = d.stats();
    let body = state.metrics.render(&[
        ("divisions", "Divisions in the tree.", d.tree.len() as f64),
        (
            "division_polygons",
            "Division polygons indexed.",
            polys as f64,
        ),
        (
            "division_vertices",
            "Vertices in the division indexes.",
            verts as f64,
        ),
        (
            "division_index_bytes",
            "Heap bytes of the point-in-polygon indexes.",
            mem as f64,
        ),
        (
            "uptime_seconds",
            "Seconds since start.",
            state.started.elapsed().as_secs_f64(),
        ),
    ]);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(body)
}

/// No route: 405 with `Allow` when the path exists for other methods, else 404.
pub(crate) async fn not_found(req: actix_web::HttpRequest) -> HttpResponse {
    use actix_web::ResponseError;
    match openapi::methods_for(req.path()) {
        Some(allowed) if !allowed.is_empty() => {
            let allow = allowed.join(", ");
            let mut r = ApiError {
                status: actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
                code: "method_not_allowed",
                field: Some("method".into()),
                message: format!("{} {} is not served; use {allow}", req.method(), req.path()),
            }
            .error_response();
            if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&allow) {
                r.headers_mut().insert(actix_web::http::header::ALLOW, v);
            }
            r
        }
        _ => ApiError::not_found(
            "path",
            format!("no route for {} {}", req.method(), req.path()),
        )
        .error_response(),
    }
}

/// Runs the server until Ctrl-C / SIGTERM.
///
/// Built from actix's parts rather than with `HttpServer`, for one reason: each connection's
/// reads go through [`rawuri::EncodeRequestLine`], so that a request line holding raw UTF-8
/// is answered instead of refused with an empty 400. The timeouts are `HttpServer`'s defaults.
pub async fn serve(state: Arc<AppState>) -> std::io::Result<()> {
    use actix_service::{fn_service, map_config, IntoServiceFactory, ServiceFactoryExt as _};
    let bind = state.config.bind.clone();
    let data = web::Data::from(state);
    let addrs: Vec<std::net::SocketAddr> =
        std::net::ToSocketAddrs::to_socket_addrs(&bind)?.collect();
    let mut builder = actix_server::Server::build();
    for addr in addrs {
        let data = data.clone();
        builder = builder.bind("diming", addr, move || {
            let app = IntoServiceFactory::<_, actix_http::Request>::into_factory(app(data.clone()))
                .map_err(|e: actix_web::Error| e.error_response());
            let h1 = actix_http::HttpService::build()
                .keep_alive(std::time::Duration::from_secs(5))
                .client_request_timeout(std::time::Duration::from_secs(5))
                .client_disconnect_timeout(std::time::Duration::from_secs(1))
                .local_addr(addr)
                .h1(map_config(app, move |_| {
                    actix_web::dev::AppConfig::__priv_test_new(false, addr.to_string(), addr)
                }));
            fn_service(|io: actix_rt::net::TcpStream| {
                let _ = io.set_nodelay(true);
                let peer = io.peer_addr().ok();
                std::future::ready(Ok::<_, actix_http::error::DispatchError>((
                    rawuri::EncodeRequestLine::new(io),
                    peer,
                )))
            })
            .and_then(h1)
        })?;
    }
    eprintln!("diming listening on http://{bind}");
    builder.run().await
}

/// The application: routes, compression and the metrics of every request.
fn app(
    data: web::Data<AppState>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(data.clone())
        .wrap(actix_web::middleware::Compress::default())
        .wrap_fn(move |req, srv| {
            let t0 = Instant::now();
            let method = req.method().to_string();
            let route = req
                .match_pattern()
                .unwrap_or_else(|| "unmatched".to_string());
            let data = data.clone();
            let fut = srv.call(req);
            async move {
                let res = fut.await?;
                data.metrics.observe(
                    &method,
                    &route,
                    res.status().as_u16(),
                    t0.elapsed().as_secs_f64(),
                );
                Ok(res)
            }
        })
        .configure(configure)
        .default_service(web::to(not_found))
}

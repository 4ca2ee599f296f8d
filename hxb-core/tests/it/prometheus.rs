//! The Prometheus metrics source against a local server speaking the Prometheus API's JSON.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hxb_core::ErrorKind;
use hxb_core::metrics::{MetricsSource, PrometheusSource};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A canned answer: HTTP status, body, and a delay before answering.
#[derive(Clone)]
struct Canned {
    status: u16,
    body: String,
    delay: Duration,
}

fn ok(body: &str) -> Canned {
    Canned {
        status: 200,
        body: body.into(),
        delay: Duration::ZERO,
    }
}

/// Serve `answers` in order (the last one repeats) on 127.0.0.1; record request lines.
async fn serve(answers: Vec<Canned>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        let mut n = 0usize;
        // Bounded: a test makes at most a handful of requests.
        while n < 16 {
            let Ok((mut sock, _)) = listener.accept().await else {
                break;
            };
            let a = answers[n.min(answers.len() - 1)].clone();
            n += 1;
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut got = 0;
                while !buf[..got].windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf[got..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => got += k,
                    }
                }
                let head = String::from_utf8_lossy(&buf[..got]).to_string();
                log.lock()
                    .unwrap()
                    .push(head.lines().next().unwrap_or("").to_owned());
                tokio::time::sleep(a.delay).await;
                let resp = format!(
                    "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
                    a.status,
                    a.body.len(),
                    a.body
                );
                let _ = sock.write_all(resp.as_bytes()).await;
            });
        }
    });
    (format!("http://{addr}"), seen)
}

fn at(s: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(s).unwrap()
}

#[tokio::test]
async fn instant_vector_and_scalar() {
    let (url, seen) = serve(vec![
        ok(
            r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"__name__":"up","job":"api"},"value":[1700000000.5,"1"]},
            {"metric":{"__name__":"up","job":"db"},"value":[1700000000.5,"NaN"]}]}}"#,
        ),
        ok(r#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"42.5"]}}"#),
    ])
    .await;
    let p = PrometheusSource::new(&url).unwrap();
    let v = p.instant("up", at(1_700_000_000)).await.unwrap();
    assert_eq!(v.len(), 2);
    assert_eq!(v[0].0["job"], "api");
    assert_eq!(v[0].1, 1.0);
    assert!(v[1].1.is_nan());
    let s = p.instant("42.5", at(1_700_000_000)).await.unwrap();
    assert_eq!(s[0].1, 42.5);
    let first = seen.lock().unwrap()[0].clone();
    assert!(
        first.starts_with("GET /api/v1/query?query=up&time=1700000000.000"),
        "{first}"
    );
}

#[tokio::test]
async fn range_matrix() {
    let (url, seen) = serve(vec![ok(
        r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"pod":"a"},"values":[[1700000000,"1"],[1700000015,"2.5"],[1700000030,"+Inf"]]}]}}"#,
    )])
    .await;
    let p = PrometheusSource::new(&url).unwrap();
    let s = p
        .range(
            "rate(x[5m])",
            at(1_700_000_000),
            at(1_700_000_030),
            Duration::from_secs(15),
        )
        .await
        .unwrap();
    assert_eq!(s[0].samples.len(), 3);
    assert_eq!(s[0].samples[1].t_ms, 1_700_000_015_000);
    assert_eq!(s[0].samples[1].v, 2.5);
    assert!(s[0].samples[2].v.is_infinite());
    let line = seen.lock().unwrap()[0].clone();
    assert!(
        line.contains("/api/v1/query_range?") && line.contains("step=15.000"),
        "{line}"
    );
}

#[tokio::test]
async fn failures_are_typed() {
    let cases: Vec<(Canned, ErrorKind)> = vec![
        (
            Canned {
                status: 400,
                body:
                    r#"{"status":"error","errorType":"bad_data","error":"parse error at char 3"}"#
                        .into(),
                delay: Duration::ZERO,
            },
            ErrorKind::InvalidInput,
        ),
        (
            Canned {
                status: 503,
                body: r#"{"status":"error","errorType":"unavailable","error":"tsdb not ready"}"#
                    .into(),
                delay: Duration::ZERO,
            },
            ErrorKind::Unavailable,
        ),
        (
            Canned {
                status: 502,
                body: "<html>bad gateway</html>".into(),
                delay: Duration::ZERO,
            },
            ErrorKind::Unavailable,
        ),
        (ok("{not json"), ErrorKind::Backend),
        (
            ok(r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#),
            ErrorKind::Backend,
        ),
        (
            ok(
                r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"abc"]}]}}"#,
            ),
            ErrorKind::Backend,
        ),
        (
            ok(
                r#"{"status":"success","warnings":["remote read of store-2 failed"],"data":{"resultType":"vector","result":[]}}"#,
            ),
            ErrorKind::Unavailable,
        ),
        (
            Canned {
                status: 200,
                body: "{}".into(),
                delay: Duration::from_secs(3),
            },
            ErrorKind::Timeout,
        ),
    ];
    for (canned, kind) in cases {
        let body = canned.body.clone();
        let (url, _) = serve(vec![canned]).await;
        let p = PrometheusSource::with_timeout(&url, Duration::from_millis(500)).unwrap();
        let e = p.instant("up", at(1)).await.unwrap_err();
        assert_eq!(e.kind(), kind, "{body}: {e}");
    }
}

#[tokio::test]
async fn partial_data_is_accepted_when_lenient() {
    let (url, _) = serve(vec![ok(
        r#"{"status":"success","warnings":["partial"],"data":{"resultType":"vector","result":[{"metric":{},"value":[1,"3"]}]}}"#,
    )])
    .await;
    let p = PrometheusSource::new(&url).unwrap().lenient();
    assert_eq!(p.instant("x", at(1)).await.unwrap()[0].1, 3.0);
}

#[tokio::test]
async fn unreachable_server_and_bad_urls() {
    // Bind then drop a listener to get a port that refuses connections.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let p = PrometheusSource::new(&format!("http://127.0.0.1:{port}")).unwrap();
    assert_eq!(
        p.instant("up", at(1)).await.unwrap_err().kind(),
        ErrorKind::Unavailable
    );
    assert_eq!(
        PrometheusSource::new("prometheus:9090").unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let p = PrometheusSource::new("http://127.0.0.1:1").unwrap();
    let e = p
        .range("up", at(10), at(0), Duration::from_secs(1))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}

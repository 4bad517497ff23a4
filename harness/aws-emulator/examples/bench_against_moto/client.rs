//! Raw HTTP/1.1 over keep-alive connections, and Secrets Manager requests
//! signed (SigV4) before a phase and replayed during it, so what is timed is
//! the server, not an SDK.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aws_emulator::sigv4;
use serde_json::Value;

pub(crate) const REGION: &str = "us-west-2";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
const SIGNED_HEADERS: [&str; 4] = ["content-type", "host", "x-amz-date", "x-amz-target"];

/// A server under test and the key its requests are signed with.
pub(crate) struct Target {
    pub(crate) name: &'static str,
    pub(crate) addr: SocketAddr,
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: String,
}

/// One request, ready to be written again and again.
pub(crate) struct Signed {
    pub(crate) op: &'static str,
    pub(crate) bytes: Vec<u8>,
}

impl Target {
    /// `op` with `body`, signed now: valid for the 15 minutes AWS allows.
    pub(crate) fn sign(&self, op: &'static str, body: &Value) -> anyhow::Result<Signed> {
        let body = body.to_string();
        let amz_date = jiff::Timestamp::now()
            .strftime("%Y%m%dT%H%M%SZ")
            .to_string();
        let host = self.addr.to_string();
        let target = format!("secretsmanager.{op}");
        let (parts, ()) = http::Request::builder()
            .method("POST")
            .uri("/")
            .header("content-type", CONTENT_TYPE)
            .header("host", &host)
            .header("x-amz-date", &amz_date)
            .header("x-amz-target", &target)
            .body(())
            .context("request head")?
            .into_parts();
        let auth = sigv4::Authorization {
            access_key_id: self.access_key_id.clone(),
            date: amz_date.get(..8).unwrap_or_default().to_owned(),
            region: REGION.to_owned(),
            service: "secretsmanager".to_owned(),
            signed_headers: SIGNED_HEADERS.iter().map(|h| (*h).to_owned()).collect(),
            signature: String::new(),
        };
        let signature = sigv4::signature(
            &parts,
            body.as_bytes(),
            &auth,
            &amz_date,
            &self.secret_access_key,
        );
        let head = format!(
            "POST / HTTP/1.1\r\nhost: {host}\r\ncontent-type: {CONTENT_TYPE}\r\nx-amz-date: {amz_date}\r\nx-amz-target: {target}\r\nauthorization: AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={signature}\r\ncontent-length: {}\r\n\r\n",
            self.access_key_id,
            auth.scope(),
            SIGNED_HEADERS.join(";"),
            body.len()
        );
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body.as_bytes());
        Ok(Signed { op, bytes })
    }
}

/// A keep-alive connection; reopened if the server closes it.
pub(crate) struct Conn {
    addr: SocketAddr,
    stream: Option<(TcpStream, BufReader<TcpStream>)>,
    line: String,
    pub(crate) body: Vec<u8>,
}

impl Conn {
    pub(crate) fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let mut conn = Self {
            addr,
            stream: None,
            line: String::new(),
            body: Vec::new(),
        };
        conn.connect()?;
        Ok(conn)
    }

    fn connect(&mut self) -> anyhow::Result<()> {
        let stream =
            TcpStream::connect(self.addr).with_context(|| format!("connect {}", self.addr))?;
        stream.set_nodelay(true)?;
        let reader = BufReader::with_capacity(64 * 1024, stream.try_clone()?);
        self.stream = Some((stream, reader));
        Ok(())
    }

    /// Sends one request and reads the whole response into `self.body`;
    /// anything but 200 is an error naming the operation and AWS's error type.
    pub(crate) fn send(&mut self, request: &Signed) -> anyhow::Result<()> {
        let status = self
            .exchange(&request.bytes)
            .with_context(|| format!("{} to {}", request.op, self.addr))?;
        if status != 200 {
            let kind = serde_json::from_slice::<Value>(&self.body)
                .ok()
                .and_then(|v| v.get("__type").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_else(|| format!("{} bytes of body", self.body.len()));
            bail!("{} to {}: HTTP {status} ({kind})", request.op, self.addr);
        }
        Ok(())
    }

    /// Like [`Conn::send`], timed.
    pub(crate) fn timed(&mut self, request: &Signed) -> anyhow::Result<Duration> {
        let started = Instant::now();
        self.send(request)?;
        Ok(started.elapsed())
    }

    fn exchange(&mut self, request: &[u8]) -> anyhow::Result<u16> {
        if self.stream.is_none() {
            self.connect()?;
        }
        let Some((writer, reader)) = self.stream.as_mut() else {
            bail!("no connection");
        };
        writer.write_all(request)?;
        self.line.clear();
        reader.read_line(&mut self.line)?;
        let mut status_line = self.line.split_whitespace();
        let version = status_line.next().unwrap_or_default().to_owned();
        let status: u16 = status_line
            .next()
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("no status line ({} bytes read)", self.line.len()))?;
        let mut length = None;
        let mut chunked = false;
        let mut close = version == "HTTP/1.0";
        loop {
            self.line.clear();
            if reader.read_line(&mut self.line)? == 0 {
                bail!("connection closed in the headers");
            }
            let line = self.line.trim_end();
            if line.is_empty() {
                break;
            }
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse::<usize>().context("content-length")?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        self.body.clear();
        if chunked {
            loop {
                self.line.clear();
                reader.read_line(&mut self.line)?;
                let size = usize::from_str_radix(
                    self.line.trim().split(';').next().unwrap_or_default(),
                    16,
                )
                .context("chunk size")?;
                if size == 0 {
                    // Trailers, up to the empty line.
                    loop {
                        self.line.clear();
                        if reader.read_line(&mut self.line)? == 0 || self.line.trim().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                let start = self.body.len();
                self.body.resize(start + size, 0);
                reader.read_exact(&mut self.body[start..])?;
                let mut crlf = [0u8; 2];
                reader.read_exact(&mut crlf)?;
            }
        } else if let Some(length) = length {
            self.body.resize(length, 0);
            reader.read_exact(&mut self.body)?;
        } else {
            reader.read_to_end(&mut self.body)?;
            close = true;
        }
        if close {
            self.stream = None;
        }
        Ok(status)
    }
}

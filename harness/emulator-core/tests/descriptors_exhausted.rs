//! With the process out of file descriptors, the accept loop backs off
//! instead of spinning a core, and serves the waiting client once a
//! descriptor is free. Alone in its test binary: it lowers the process's
//! descriptor limit and fills it.

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

use emulator_core::{Abort, HttpService, RequestBody, ResponseBody, ServerHandle, full_body};
use http::{Request, Response};

struct Hello;
impl HttpService for Hello {
    async fn call(&self, _req: Request<RequestBody>) -> Result<Response<ResponseBody>, Abort> {
        Ok(Response::new(full_body("hello")))
    }
}

fn cpu_time() -> Duration {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct it is given.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) }, 0);
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

#[test]
fn exhausted_descriptors_do_not_spin_the_accept_loop() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(ServerHandle::start(Arc::new(Hello))).unwrap();
    let addr = server.local_addr();

    let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: plain libc calls on structs owned here.
    assert_eq!(
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
        0
    );
    let saved = limit;
    limit.rlim_cur = limit.rlim_max.min(512);
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);

    // The client's socket exists before the descriptors run out: connecting
    // it needs none, accepting it does.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0) };
    assert!(raw >= 0);
    let client = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut fillers = Vec::new();
    loop {
        let fd = unsafe { libc::dup(0) };
        if fd < 0 {
            assert_eq!(
                std::io::Error::last_os_error().raw_os_error(),
                Some(libc::EMFILE)
            );
            break;
        }
        fillers.push(unsafe { OwnedFd::from_raw_fd(fd) });
    }
    let std::net::SocketAddr::V4(v4) = addr else {
        panic!("loopback v4 expected")
    };
    let sin = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: v4.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*v4.ip()).to_be(),
        },
        sin_zero: [0; 8],
    };
    let connected = unsafe {
        libc::connect(
            raw,
            (&sin as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    assert_eq!(connected, 0, "{}", std::io::Error::last_os_error());

    // A measurement window, not a wait for a condition: how much CPU the
    // process burns in one second while accept fails with EMFILE.
    let before = cpu_time();
    std::thread::sleep(Duration::from_secs(1));
    let burnt = cpu_time() - before;
    assert!(
        burnt < Duration::from_millis(300),
        "the process used {burnt:?} of CPU in 1s while out of descriptors: the accept loop spins"
    );

    drop(fillers);
    let mut stream = std::net::TcpStream::from(client);
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .expect("no answer within 5s (1s backoff at most) after descriptors were freed");
    assert!(answer.ends_with("hello"), "{answer}");
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &saved) }, 0);
    drop(server);
}

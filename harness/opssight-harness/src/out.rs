//! Standard output that may be closed early (`opssight-harness test | head
//! -1`): once the reader is gone, what follows is dropped instead of
//! panicking (exit 101); the run goes on to its end, its reports and its
//! clean-up. (Restoring SIGPIPE's default would kill the process before it
//! removes its temporary files.)

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);

/// The process's stdout, quiet once its reader has gone.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if CLOSED.load(Ordering::Relaxed) {
            return Ok(buf.len());
        }
        match io::stdout().write(buf) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                CLOSED.store(true, Ordering::Relaxed);
                Ok(buf.len())
            }
            other => other,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match io::stdout().flush() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                CLOSED.store(true, Ordering::Relaxed);
                Ok(())
            }
            other => other,
        }
    }
}

pub fn print(args: std::fmt::Arguments<'_>) {
    let _ = Stdout.write_fmt(args);
}

/// `println!` to [`Stdout`].
#[macro_export]
macro_rules! say {
    () => { $crate::out::print(format_args!("\n")) };
    ($($t:tt)*) => { $crate::out::print(format_args!("{}\n", format_args!($($t)*))) };
}

/// `print!` to [`Stdout`].
#[macro_export]
macro_rules! say_raw {
    ($($t:tt)*) => { $crate::out::print(format_args!($($t)*)) };
}

//! A small progress bar on stderr (redrawn in place on a terminal, a line per quarter
//! otherwise).

use std::io::{IsTerminal, Write};

/// Progress over `total` steps.
pub struct Progress {
    total: usize,
    last: usize,
    tty: bool,
    label: &'static str,
}

impl Progress {
    /// A bar for `total` steps.
    pub fn new(label: &'static str, total: usize) -> Self {
        Progress {
            total: total.max(1),
            last: usize::MAX,
            tty: std::io::stderr().is_terminal(),
            label,
        }
    }

    /// `done` steps are complete.
    pub fn set(&mut self, done: usize) {
        let pct = done * 100 / self.total;
        if pct == self.last || (!self.tty && !pct.is_multiple_of(25)) {
            return;
        }
        self.last = pct;
        let width = 40;
        let filled = done * width / self.total;
        let bar = format!("{}{}", "#".repeat(filled), "-".repeat(width - filled));
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r{} [{bar}] {pct:>3}%", self.label);
            if done >= self.total {
                let _ = writeln!(err);
            }
        } else {
            let _ = writeln!(err, "{} [{bar}] {pct:>3}%", self.label);
        }
        let _ = err.flush();
    }
}

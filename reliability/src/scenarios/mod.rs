//! The reliability scenarios, one file each, in the order of the issue that asked
//! for them; each measures figures and checks its pass criterion.

use std::path::PathBuf;

pub mod disconnects;
pub mod flood;
pub mod idle;
pub mod memory;
pub mod panics;
pub mod response_validation;
pub mod shutdown;
pub mod slow_clients;
pub mod slowloris;
pub mod smuggling;

/// What every scenario gets.
pub struct Ctx {
    /// The `gateway-serve` binary.
    pub server: PathBuf,
    /// The quick version (CI) or the full one.
    pub quick: bool,
}

impl Ctx {
    /// `quick` in the quick run, `full` in the full one.
    pub fn pick<T>(&self, quick: T, full: T) -> T {
        if self.quick {
            quick
        } else {
            full
        }
    }
}

/// What a scenario measured and concluded.
pub struct Outcome {
    /// The pass criterion, in words.
    pub criterion: String,
    /// Whether it was met.
    pub passed: bool,
    /// Measured figures, name and value.
    pub figures: Vec<(String, String)>,
}

impl Outcome {
    pub fn new(criterion: impl Into<String>) -> Self {
        Self {
            criterion: criterion.into(),
            passed: true,
            figures: Vec::new(),
        }
    }

    /// Records a figure.
    pub fn figure(&mut self, name: &str, value: impl ToString) {
        self.figures.push((name.to_owned(), value.to_string()));
    }

    /// Records a check: the scenario fails if `ok` is false.
    pub fn check(&mut self, what: &str, ok: bool) {
        self.figure(what, if ok { "ok" } else { "FAILED" });
        self.passed &= ok;
    }

    /// Records a check on timing, throughput or memory. It decides the verdict of
    /// the full run only: the quick run is part of `cargo test`, where timing never
    /// decides a verdict on a shared, noisy machine.
    pub fn check_measured(&mut self, ctx: &Ctx, what: &str, ok: bool) {
        if ctx.quick {
            let shown = if ok {
                "ok (not judged in the quick run)"
            } else {
                "missed (not judged in the quick run)"
            };
            self.figure(what, shown);
        } else {
            self.check(what, ok);
        }
    }
}

/// One scenario.
pub struct Scenario {
    pub name: &'static str,
    pub run: fn(&Ctx) -> Outcome,
}

/// Every scenario, in order.
pub const ALL: &[Scenario] = &[
    Scenario {
        name: "smuggling-and-unread-bodies",
        run: smuggling::run,
    },
    Scenario {
        name: "slowloris",
        run: slowloris::run,
    },
    Scenario {
        name: "idle-keep-alive",
        run: idle::run,
    },
    Scenario {
        name: "connection-flood-and-fd-exhaustion",
        run: flood::run,
    },
    Scenario {
        name: "memory-bounds",
        run: memory::run,
    },
    Scenario {
        name: "graceful-shutdown-under-load",
        run: shutdown::run,
    },
    Scenario {
        name: "panics-and-hung-apps",
        run: panics::run,
    },
    Scenario {
        name: "abrupt-disconnects",
        run: disconnects::run,
    },
    Scenario {
        name: "response-validation",
        run: response_validation::run,
    },
    Scenario {
        name: "trickled-bodies",
        run: slow_clients::trickled_bodies,
    },
    Scenario {
        name: "slow-readers",
        run: slow_clients::slow_readers,
    },
];

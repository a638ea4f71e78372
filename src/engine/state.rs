//! Task-instance and run states, and the one function that owns every
//! transition (`transition`). Nothing else in the engine assigns a state.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Pending,
    Queued,
    Running,
    Retrying,
    Succeeded,
    Failed,
    UpstreamFailed,
    Skipped,
    Cancelled,
    Interrupted,
}

impl TaskState {
    pub const ALL: [TaskState; 10] = [
        TaskState::Pending,
        TaskState::Queued,
        TaskState::Running,
        TaskState::Retrying,
        TaskState::Succeeded,
        TaskState::Failed,
        TaskState::UpstreamFailed,
        TaskState::Skipped,
        TaskState::Cancelled,
        TaskState::Interrupted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Pending => "pending",
            TaskState::Queued => "queued",
            TaskState::Running => "running",
            TaskState::Retrying => "retrying",
            TaskState::Succeeded => "succeeded",
            TaskState::Failed => "failed",
            TaskState::UpstreamFailed => "upstream_failed",
            TaskState::Skipped => "skipped",
            TaskState::Cancelled => "cancelled",
            TaskState::Interrupted => "interrupted",
        }
    }

    /// No further progress without a person (rerun, mark).
    pub fn is_terminal(self) -> bool {
        !matches!(
            self,
            TaskState::Pending | TaskState::Queued | TaskState::Running | TaskState::Retrying
        )
    }

    /// Lets downstream tasks start. A person who skips a task says "go on without it".
    pub fn satisfies_downstream(self) -> bool {
        matches!(self, TaskState::Succeeded | TaskState::Skipped)
    }

    /// Terminal and not good: downstream can never start.
    pub fn is_bad_end(self) -> bool {
        self.is_terminal() && !self.satisfies_downstream()
    }

    /// What `rerun --failed` (the console's `F`) selects.
    pub fn is_rerunnable_failure(self) -> bool {
        matches!(
            self,
            TaskState::Failed
                | TaskState::UpstreamFailed
                | TaskState::Interrupted
                | TaskState::Cancelled
        )
    }

    /// One character for plain-text displays.
    pub fn glyph(self) -> &'static str {
        match self {
            TaskState::Pending => "·",
            TaskState::Queued => "…",
            TaskState::Running => "▶",
            TaskState::Retrying => "↻",
            TaskState::Succeeded => "✓",
            TaskState::Failed => "✗",
            TaskState::UpstreamFailed => "⊘",
            TaskState::Skipped => "⤼",
            TaskState::Cancelled => "■",
            TaskState::Interrupted => "⚡",
        }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        TaskState::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unknown task state `{s}`"))
    }
}

/// Why a state changes. The pair (from, cause) decides the target state, so a
/// caller cannot invent an edge: it names what happened, `transition` decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// All upstreams satisfied.
    Ready,
    /// A pool slot (or the run's parallel limit) was granted.
    SlotGranted,
    /// The attempt ended well.
    AttemptSucceeded,
    /// The attempt failed and the retry budget allows another.
    AttemptFailedWillRetry,
    /// The attempt failed and no retries are left (or the failure is final).
    AttemptFailedFinal,
    /// A retry delay elapsed: back in line for a slot.
    RetryDue,
    /// An upstream ended badly.
    UpstreamFailed,
    /// A person (or Ctrl-C) cancelled it.
    Cancel,
    /// Its owner process died while it was in flight.
    OwnerDied,
    /// A rerun reset it.
    Reset,
    /// A person marked it succeeded.
    MarkSucceeded,
    /// A person marked it skipped.
    MarkSkipped,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("illegal transition: a {from} task cannot take `{cause:?}`")]
pub struct IllegalTransition {
    pub from: TaskState,
    pub cause: Cause,
}

/// The only place that decides task-state edges.
pub fn transition(from: TaskState, cause: Cause) -> Result<TaskState, IllegalTransition> {
    use Cause as C;
    use TaskState as S;
    let to = match (from, cause) {
        (S::Pending, C::Ready) => S::Queued,
        (S::Queued, C::SlotGranted) => S::Running,
        (S::Running, C::AttemptSucceeded) => S::Succeeded,
        (S::Running, C::AttemptFailedWillRetry) => S::Retrying,
        (S::Running, C::AttemptFailedFinal) => S::Failed,
        (S::Retrying, C::RetryDue) => S::Queued,
        (S::Pending, C::UpstreamFailed) => S::UpstreamFailed,
        // A running task is cancelled by stopping it: its attempt ends, then it
        // becomes cancelled. Everything not yet running is cancelled at once.
        (S::Pending | S::Queued | S::Running | S::Retrying, C::Cancel) => S::Cancelled,
        (S::Running | S::Retrying, C::OwnerDied) => S::Interrupted,
        // A queued task never started: it goes back in line for its next owner.
        (S::Queued, C::OwnerDied) => S::Pending,
        // Never reset a running task: it must be cancelled first.
        (s, C::Reset) if s != S::Running => S::Pending,
        (s, C::MarkSucceeded) if s != S::Running => S::Succeeded,
        (s, C::MarkSkipped) if s != S::Running => S::Skipped,
        _ => return Err(IllegalTransition { from, cause }),
    };
    Ok(to)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Created by a backfill, waiting for one of its `max_active` places.
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::Running => "running",
            RunState::Succeeded => "succeeded",
            RunState::Failed => "failed",
        }
    }
    pub fn is_live(self) -> bool {
        matches!(self, RunState::Queued | RunState::Running)
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "queued" => Ok(RunState::Queued),
            "running" => Ok(RunState::Running),
            "succeeded" => Ok(RunState::Succeeded),
            "failed" => Ok(RunState::Failed),
            _ => Err(format!("unknown run state `{s}`")),
        }
    }
}

/// A run's state from its instances': running while any can still make
/// progress, then succeeded iff every one succeeded or was skipped.
pub fn run_state_of(states: impl IntoIterator<Item = TaskState>) -> RunState {
    let mut all_good = true;
    for s in states {
        if !s.is_terminal() {
            return RunState::Running;
        }
        all_good &= s.satisfies_downstream();
    }
    if all_good {
        RunState::Succeeded
    } else {
        RunState::Failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAUSES: [Cause; 12] = [
        Cause::Ready,
        Cause::SlotGranted,
        Cause::AttemptSucceeded,
        Cause::AttemptFailedWillRetry,
        Cause::AttemptFailedFinal,
        Cause::RetryDue,
        Cause::UpstreamFailed,
        Cause::Cancel,
        Cause::OwnerDied,
        Cause::Reset,
        Cause::MarkSucceeded,
        Cause::MarkSkipped,
    ];

    /// The whole table, written out: every (state, cause) pair, legal or not.
    fn expected(from: TaskState, cause: Cause) -> Option<TaskState> {
        use Cause as C;
        use TaskState as S;
        match cause {
            C::Ready => (from == S::Pending).then_some(S::Queued),
            C::SlotGranted => (from == S::Queued).then_some(S::Running),
            C::AttemptSucceeded => (from == S::Running).then_some(S::Succeeded),
            C::AttemptFailedWillRetry => (from == S::Running).then_some(S::Retrying),
            C::AttemptFailedFinal => (from == S::Running).then_some(S::Failed),
            C::RetryDue => (from == S::Retrying).then_some(S::Queued),
            C::UpstreamFailed => (from == S::Pending).then_some(S::UpstreamFailed),
            C::Cancel => (!from.is_terminal()).then_some(S::Cancelled),
            C::OwnerDied => match from {
                S::Running | S::Retrying => Some(S::Interrupted),
                S::Queued => Some(S::Pending),
                _ => None,
            },
            C::Reset => (from != S::Running).then_some(S::Pending),
            C::MarkSucceeded => (from != S::Running).then_some(S::Succeeded),
            C::MarkSkipped => (from != S::Running).then_some(S::Skipped),
        }
    }

    #[test]
    fn every_state_and_cause_pair() {
        let mut legal = 0;
        for from in TaskState::ALL {
            for cause in CAUSES {
                let got = transition(from, cause).ok();
                assert_eq!(got, expected(from, cause), "{from} + {cause:?}");
                legal += usize::from(got.is_some());
            }
        }
        // 7 single edges + 4 cancels + 3 owner-died + 3 × 9 person actions.
        assert_eq!(legal, 7 + 4 + 3 + 27);
    }

    #[test]
    fn terminal_states_never_move_on_their_own() {
        let automatic = [
            Cause::Ready,
            Cause::SlotGranted,
            Cause::AttemptSucceeded,
            Cause::AttemptFailedWillRetry,
            Cause::AttemptFailedFinal,
            Cause::RetryDue,
            Cause::UpstreamFailed,
            Cause::Cancel,
            Cause::OwnerDied,
        ];
        for from in TaskState::ALL.into_iter().filter(|s| s.is_terminal()) {
            for cause in automatic {
                assert!(transition(from, cause).is_err(), "{from} + {cause:?}");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for s in TaskState::ALL {
            assert_eq!(s.as_str().parse::<TaskState>(), Ok(s));
        }
        assert!("done".parse::<TaskState>().is_err());
    }

    #[test]
    fn run_state_follows_instances() {
        use TaskState as S;
        assert_eq!(run_state_of([S::Succeeded, S::Pending]), RunState::Running);
        assert_eq!(run_state_of([S::Failed, S::Retrying]), RunState::Running);
        assert_eq!(
            run_state_of([S::Succeeded, S::Skipped]),
            RunState::Succeeded
        );
        assert_eq!(
            run_state_of([S::Succeeded, S::Interrupted]),
            RunState::Failed
        );
        assert_eq!(run_state_of([S::Cancelled]), RunState::Failed);
    }
}

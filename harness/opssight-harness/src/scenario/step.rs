//! What a step returns, and the two helpers every step module uses.

/// What a step returns. cucumber shows a failed step's error with `{}`,
/// which for an anyhow error is its outermost context only ("starting the
/// embedded environment"); this one shows the whole chain of causes.
pub type StepResult = Result<(), StepFailure>;

pub struct StepFailure(pub anyhow::Error);

/// `anyhow::bail!` for functions returning a [`StepResult`] as well as an
/// `anyhow::Result`.
macro_rules! bail {
    ($($t:tt)*) => { return Err(anyhow::anyhow!($($t)*).into()) };
}
pub(crate) use bail;

impl std::fmt::Display for StepFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::fmt::Debug for StepFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl<E: Into<anyhow::Error>> From<E> for StepFailure {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

/// Fails the step with `msg()` unless `cond` holds.
pub fn ensure(cond: bool, msg: impl FnOnce() -> String) -> StepResult {
    if cond { Ok(()) } else { bail!(msg()) }
}

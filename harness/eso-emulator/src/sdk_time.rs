//! How the controller's AWS SDK clients wait. The SDK sleeps between the
//! attempts of a call (its retry backoff); here it sleeps on the
//! controller's clock, so on a virtual clock the wait ends when the clock is
//! moved past it, and the controller counts as waiting on the clock
//! meanwhile ([`Queue::activity`]).
//!
//! The SDK also times connects and checks the throughput of bodies with its
//! sleep. A jump of a virtual clock must not end a connect in flight, nor
//! count as a stalled body, so on a virtual clock the clients have neither
//! (their endpoints are in-process emulators, which answer or refuse at once).

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_secretsmanager::config::timeout::TimeoutConfig;
use aws_sdk_secretsmanager::config::{
    AsyncSleep, SharedAsyncSleep, Sleep, StalledStreamProtectionConfig,
};
use emulator_core::Clock;

use crate::queue::{Queue, after};

/// How the SDK clients of one controller wait.
#[derive(Debug, Clone)]
pub(crate) struct SdkTime {
    sleep: SharedAsyncSleep,
    virtual_clock: bool,
}

#[derive(Debug)]
struct ClockSleep {
    clock: Clock,
    queue: Arc<Queue>,
}

impl AsyncSleep for ClockSleep {
    fn sleep(&self, duration: Duration) -> Sleep {
        let deadline = after(self.clock.now(), duration);
        let (clock, queue) = (self.clock.clone(), self.queue.clone());
        Sleep::new(async move {
            // Counted from the first poll: a sleep made and dropped unpolled
            // (the timeout of something ready at once) is no wait.
            let _waiting = queue.sleeping(deadline);
            clock.sleep_until(deadline).await;
        })
    }
}

/// The sleep, and on a virtual clock no timers, on a builder of either
/// SDK's config: they share the methods, not a trait.
macro_rules! on_the_clock {
    ($time:expr, $conf:expr) => {{
        let (time, mut conf) = ($time, $conf);
        conf.set_sleep_impl(Some(time.sleep.clone()));
        if time.virtual_clock {
            conf = conf
                .timeout_config(TimeoutConfig::disabled())
                .stalled_stream_protection(StalledStreamProtectionConfig::disabled());
        }
        conf
    }};
}

impl SdkTime {
    pub(crate) fn new(clock: Clock, queue: Arc<Queue>) -> Self {
        Self {
            virtual_clock: clock.is_virtual(),
            sleep: SharedAsyncSleep::new(ClockSleep { clock, queue }),
        }
    }

    /// A Secrets Manager client's config, sleeping on the clock.
    pub(crate) fn secrets_manager(
        &self,
        conf: aws_sdk_secretsmanager::config::Builder,
    ) -> aws_sdk_secretsmanager::config::Builder {
        on_the_clock!(self, conf)
    }

    /// An STS client's config, sleeping on the clock.
    pub(crate) fn sts(&self, conf: aws_sdk_sts::config::Builder) -> aws_sdk_sts::config::Builder {
        on_the_clock!(self, conf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::Activity;

    #[tokio::test]
    async fn the_sdks_sleep_waits_on_the_virtual_clock_and_counts_as_idle() {
        let start = "2027-01-01T00:00:00Z".parse().unwrap();
        let clock = Clock::frozen_at(start);
        let queue = Arc::new(Queue::default());
        let sleep = ClockSleep {
            clock: clock.clone(),
            queue: queue.clone(),
        };
        // A reconcile is in flight and its SDK call backs off for 2 s.
        queue.add(
            crate::queue::Key::ExternalSecret {
                namespace: "ns".into(),
                name: "es".into(),
            },
            start,
        );
        queue.take_due(start, 1);
        let napping = tokio::spawn(sleep.sleep(Duration::from_secs(2)));
        let mut changes = queue.subscribe();
        let deadline = after(start, Duration::from_secs(2));
        tokio::time::timeout(
            Duration::from_secs(5),
            changes.wait_for(|_| queue.activity(start) != Activity::Working),
        )
        .await
        .expect("the sleep was not counted as a wait on the clock within 5 s")
        .unwrap();
        assert_eq!(
            queue.activity(start),
            Activity::Idle {
                until: Some(deadline)
            }
        );
        clock.advance(Duration::from_secs(1)).unwrap();
        tokio::task::yield_now().await;
        assert!(!napping.is_finished(), "woke before its deadline");
        clock.advance(Duration::from_secs(1)).unwrap();
        tokio::time::timeout(Duration::from_secs(5), napping)
            .await
            .expect("the sleep did not end within 5 s of the clock passing it")
            .unwrap();
        assert_eq!(queue.activity(deadline), Activity::Working);
    }
}

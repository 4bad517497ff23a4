//! The drill's HTML report renders in headless Chromium and its timelines
//! are drawn: the screenshot holds the outage bars and phase markers in
//! their colours, and the same page without its SVG does not.
//!
//! Needs Debian's `chromium` (`apt-get install chromium`); skipped with a
//! message when it is missing, unless `REQUIRE_CHROMIUM=1` (as in CI).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// Renders `html` to a PNG of 1200 x 4000 pixels.
fn screenshot(chromium: &Path, html: &Path, png: &Path, profile: &Path) {
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1200,4000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starting chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium exited with {status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "chromium did not finish the screenshot of {} in 120 s",
                html.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Pixels within a small distance of `rgb`.
fn count_colour(png: &Path, rgb: (u8, u8, u8)) -> usize {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    buf[..info.buffer_size()]
        .chunks(channels)
        .filter(|p| {
            p.len() >= 3
                && p[0].abs_diff(rgb.0) <= 6
                && p[1].abs_diff(rgb.1) <= 6
                && p[2].abs_diff(rgb.2) <= 6
        })
        .count()
}

fn hex(c: &str) -> (u8, u8, u8) {
    let v = |i: usize| u8::from_str_radix(&c[i..i + 2], 16).unwrap();
    (v(1), v(3), v(5))
}

#[test]
fn the_drill_report_renders_its_timelines_in_chromium() {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var("REQUIRE_CHROMIUM").as_deref() != Ok("1"),
            "REQUIRE_CHROMIUM=1 but chromium is not installed (apt-get install chromium)"
        );
        eprintln!("skipped: chromium is not installed (apt-get install chromium)");
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let reports = work.path().join("reports");
    let out = Command::new(env!("CARGO_BIN_EXE_opssight-harness"))
        .arg("drill")
        .arg("--report-dir")
        .arg(&reports)
        .arg("--artifacts")
        .arg(work.path().join("artifacts"))
        .current_dir(common::repo_root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let html = reports.join("drill-report.html");

    let png = work.path().join("drill-report.png");
    screenshot(&chromium, &html, &png, &work.path().join("profile"));
    let outage = count_colour(&png, hex(opssight_harness::drill::render::OUTAGE_BAR));
    let phase = |p| count_colour(&png, hex(opssight_harness::drill::render::phase_colour(p)));
    use opssight_harness::drill::Phase;
    eprintln!("outage bar pixels: {outage}");
    // Bars 14 px high over several slots, in several scenarios.
    assert!(outage > 2_000, "{outage} pixels of outage bars");
    for p in [
        Phase::Baseline,
        Phase::DisasterInjected,
        Phase::RecoveryAction,
        Phase::Verified,
    ] {
        // Each marker is a disc of radius 7 (about 150 px), one per scenario at least.
        assert!(phase(p) > 300, "{} pixels of {p:?} markers", phase(p));
    }

    // The axis breaks where the virtual clock jumped (the refresh interval
    // elapsing): a band 48 px wide over the timeline's rows.
    let jump = count_colour(&png, hex(opssight_harness::drill::render::JUMP_BAND));
    eprintln!("jump band pixels: {jump}");
    assert!(jump > 2_000, "{jump} pixels of jump bands");

    // The check can fail: the same page without its timelines.
    let text = std::fs::read_to_string(&html).unwrap();
    let without = regex::Regex::new(
        r#"(?s)<svg xmlns="http://www.w3.org/2000/svg" class="timeline".*?</svg>"#,
    )
    .unwrap()
    .replace_all(&text, "");
    let bare = work.path().join("without-timelines.html");
    std::fs::write(&bare, without.as_ref()).unwrap();
    let bare_png = work.path().join("without-timelines.png");
    screenshot(&chromium, &bare, &bare_png, &work.path().join("profile2"));
    let bare_outage = count_colour(&bare_png, hex(opssight_harness::drill::render::OUTAGE_BAR));
    eprintln!("outage-coloured pixels without timelines: {bare_outage}");
    assert!(
        bare_outage < 500,
        "{bare_outage} outage-coloured pixels without timelines (only the legend has some)"
    );
    let bare_jump = count_colour(&bare_png, hex(opssight_harness::drill::render::JUMP_BAND));
    assert!(
        bare_jump < 500,
        "{bare_jump} jump-coloured pixels without timelines (only the legend has some)"
    );
}

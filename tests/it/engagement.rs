//! The engagement's factors: the additional share multiplies every engaged action except one
//! whose share of practices taking part has its own baseline, exactly and with nothing else
//! moved; an ICB's own engagement (an override of `engagement.icb`) changes that ICB only.

use icb_impact::dist::{Dist, Spec};
use icb_impact::engine::{self, Draws};
use icb_impact::pipeline::{prepare, Config, Prepared};
use icb_impact::rng;

use crate::{assert_same_bits, Sandbox, TINY_ICBS};

/// Three actions: engaged, engaged with its own baseline, not engaged.
const SCENARIO: &str = r#"[scenario]
name = "engagement"
start = "2024-08"
months = 6
iterations = 1500
seed = 5
data = "icbs.csv"

[engagement]
curve = { "2024-08" = 0.46, "2024-11" = 0.70 }
icb = { dist = "pert", min = 0.5, mode = 1, max = 1.35 }
ADDITIONAL

[actions.plain]
factors = { uptake = { participation = true, dist = "pert", min = 0.2, mode = 0.4, max = 0.7 } }

[[actions.plain.costs]]
driver = "registered_patients"
factors = { per_patient = { dist = "uniform", min = 1, max = 3 } }

[actions.own_baseline]
factors = { uptake = { participation = true, dist = "uniform", min = 0.3, max = 0.9, baseline = { dist = "uniform", min = 0.05, max = 0.2 } } }

[[actions.own_baseline.costs]]
driver = "gp_practices"
factors = { per_practice = 1000 }

[actions.not_engaged]
engaged = false
factors = { share = { dist = "pert", min = 0.1, mode = 0.3, max = 0.5 } }

[[actions.not_engaged.costs]]
driver = "registered_patients"
factors = { per_patient = 0.5 }
"#;

const ITERATIONS: usize = 1500;
const ADDITIONAL: &str = "engagement.additional";

fn run(sb: &Sandbox, name: &str, additional: &str, tail: &str) -> (Prepared, Draws) {
    let text = SCENARIO.replace("ADDITIONAL", additional) + tail;
    let path = sb.write(name, &text);
    let p = prepare(&Config::new(path)).unwrap();
    let draws = engine::run(&p.model, ITERATIONS, &|_| {});
    (p, draws)
}

fn close(got: f64, expected: f64) -> bool {
    (got - expected).abs() <= 1e-12 * expected.abs()
}

#[test]
fn the_additional_share_multiplies_only_engaged_actions_without_a_baseline_of_their_own() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let (_, base) = run(&sb, "base.toml", "", "");
    // A known share: the plain action's cost of every ICB in every iteration is 0.6 times the
    // cost without it; the other two actions are bit-equal.
    let (_, fixed) = run(&sb, "fixed.toml", "additional = 0.6", "");
    // A drawn share: one national draw, from the stream keyed by its path, multiplies it.
    let drawn = "additional = { dist = \"uniform\", min = 0.63, max = 1.0 }";
    let (p, with) = run(&sb, "drawn.toml", drawn, "");
    let slot = p
        .model
        .national
        .iter()
        .position(|s| s.path == ADDITIONAL)
        .expect("a national factor");
    let values = with.national_factor(slot);
    let uniform = Dist::new(Spec::Uniform {
        min: 0.63,
        max: 1.0,
    })
    .unwrap();
    for (it, &v) in values.iter().enumerate() {
        let expected = uniform.sample(&mut rng::stream(
            5,
            it as u64,
            rng::NATIONAL,
            rng::key(ADDITIONAL),
        ));
        assert!(close(v, expected), "iteration {it}: {v} vs {expected}");
    }
    for icb in 0..3 {
        let b = base.icb_action(icb, 0);
        let (f, w) = (fixed.icb_action(icb, 0), with.icb_action(icb, 0));
        for it in 0..ITERATIONS {
            assert!(close(f[it], 0.6 * b[it]), "ICB {icb}, iteration {it}");
            assert!(
                close(w[it], values[it] * b[it]),
                "ICB {icb}, iteration {it}"
            );
        }
        for action in 1..3 {
            let what = format!("ICB {icb}, action {action}");
            assert_same_bits(
                &base.icb_action(icb, action),
                &fixed.icb_action(icb, action),
                &what,
            );
            assert_same_bits(
                &base.icb_action(icb, action),
                &with.icb_action(icb, action),
                &what,
            );
        }
    }
}

#[test]
fn an_icbs_own_engagement_changes_that_icb_only() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let (_, base) = run(&sb, "base.toml", "", "");
    let own = "\n[[overrides]]\nicb = \"BBB\"\nfactor = \"engagement.icb\"\nvalue = 1.34\nsource = \"LMC survey\"\n";
    let (p, with) = run(&sb, "own.toml", "", own);
    assert_eq!(p.scenario.overrides.len(), 1);
    let engagement = &p.scenario.engagement.as_ref().unwrap().icb;
    for icb in [0usize, 2] {
        assert_same_bits(&base.icb(icb), &with.icb(icb), &format!("ICB {icb}"));
    }
    // BBB's engaged actions scale by 1.34 over the value it drew; the other action is bit-equal.
    for it in 0..ITERATIONS {
        let drawn = engagement.dist.sample(&mut rng::stream(
            5,
            it as u64,
            rng::key("BBB"),
            engagement.stream,
        ));
        for action in 0..2 {
            let (b, w) = (
                base.icb_action(1, action)[it],
                with.icb_action(1, action)[it],
            );
            assert!(
                close(w, b * 1.34 / drawn),
                "action {action}, iteration {it}"
            );
        }
    }
    assert_same_bits(
        &base.icb_action(1, 2),
        &with.icb_action(1, 2),
        "not engaged",
    );
}

#[test]
fn bad_engagement_factors_are_refused_with_line_and_field() {
    let sb = Sandbox::new();
    sb.write("icbs.csv", TINY_ICBS);
    let cases = [
        (
            "additional = { dist = \"uniform\", min = 0.5, max = 1.2 }",
            "",
            "s.toml:12: engagement.additional: is a share and must lie in [0, 1]; this distribution ranges from 0.5 to 1.2",
        ),
        (
            "additional = { dist = \"uniform\", min = 0.5, max = 1, vary = \"icb\" }",
            "",
            "s.toml:12: engagement.additional: is one national share for every view: it takes no vary, baseline or view",
        ),
        (
            "",
            "\n[[overrides]]\nicb = \"BBB\"\nfactor = \"engagement.additional\"\nvalue = 0.5\n",
            "overrides[0].factor: 'engagement.additional' is not a factor of this scenario",
        ),
    ];
    for (additional, tail, expected) in cases {
        let text = SCENARIO.replace("ADDITIONAL", additional) + tail;
        let path = sb.write("s.toml", &text);
        let err = prepare(&Config::new(&path)).err().unwrap().to_string();
        assert!(err.contains(expected), "expected {expected}\ngot {err}");
    }
    // At practice level an ICB's engagement decides which of its practices take part, so it is
    // not overridden there.
    sb.write(
        "practices.csv",
        "practice_code,icb_code,registered_patients\nP1,AAA,1000\nP2,BBB,2000\nP3,CCC,3000\n",
    );
    let own = "\n[[overrides]]\nicb = \"BBB\"\nfactor = \"engagement.icb\"\nvalue = 1.2\n";
    let path = sb.write("p.toml", &(SCENARIO.replace("ADDITIONAL", "") + own));
    let err = prepare(&Config {
        granularity: Some(icb_impact::scenario::Granularity::Practice),
        practices: Some(sb.path("practices.csv")),
        ..Config::new(&path)
    })
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("overrides[0].factor: engagement.icb is the share of practices taking part"),
        "{err}"
    );
}

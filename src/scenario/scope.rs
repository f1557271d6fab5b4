//! Derived scenarios: a valid scenario restricted to the scope of a published figure (some of
//! its actions, another period, a cost view, factor values known for that figure). The result
//! is a scenario like any other, valid by construction, or the reason the scenario cannot
//! express that scope.

use super::{Action, CostView, DecisionOption, Factor, Override, Ramp, Scenario, Timing, Vary};
use crate::dist::{Dist, Spec};
use crate::month::Month;

use super::MAX_MONTHS;

/// What a derived run keeps of a scenario. Every `None` (and an empty list) keeps the
/// scenario as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scope {
    /// Only these actions, by id (kept in the scenario's order).
    pub actions: Option<Vec<String>>,
    /// The first and last simulated months, inclusive.
    pub period: Option<(Month, Month)>,
    pub cost_view: Option<CostView>,
    /// Factor values known for the figure: factor path (`actions.<id>.factors.<name>` or
    /// `actions.<id>.costs[<n>].factors.<name>`) and the value it is fixed at.
    pub conditions: Vec<(String, f64)>,
    /// Factor values known for one ICB (its code, the factor path, the value): that ICB's own
    /// input, as an `[[overrides]]` entry would give it.
    pub icb_conditions: Vec<(String, String, f64)>,
}

impl Scenario {
    /// This scenario within `scope`: only those actions, that exact period, that view, those
    /// factors fixed at their known values; correlations that name a factor no longer drawn
    /// are dropped. `Err` says why the scenario cannot express the scope: an action or a factor
    /// it lacks, a period longer than a scenario may be, or actions that do not act in it.
    pub fn within(&self, scope: &Scope) -> Result<Scenario, String> {
        let mut derived = self.clone();
        if let Some(ids) = &scope.actions {
            let missing: Vec<&str> = ids
                .iter()
                .filter(|id| !self.actions.iter().any(|a| &a.id == *id))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                return Err(format!(
                    "the scenario has no action {}",
                    missing.join(", no action ")
                ));
            }
            derived.actions.retain(|a| ids.contains(&a.id));
        }
        if let Some((first, last)) = scope.period {
            let months = last.since(first) + 1;
            if months < 1 || months as u32 > MAX_MONTHS {
                return Err(format!(
                    "the period {first} to {last} is not 1 to {MAX_MONTHS} months"
                ));
            }
            derived.start = first;
            derived.months = months as u32;
        }
        if let Some(view) = scope.cost_view {
            derived.cost_view = view;
        }
        let (first, last) = (derived.start, derived.end());
        // Timings stay in calendar months, so a period that starts after an action's end
        // still counts the part of its recovery that falls inside it.
        if !derived.actions.iter().any(|a| a.acts_within(first, last)) {
            return Err(format!(
                "none of the actions in scope acts between {first} and {last}"
            ));
        }
        for (path, value) in &scope.conditions {
            let factor = derived
                .engagement
                .iter_mut()
                .flat_map(|e| std::iter::once(&mut e.icb).chain(&mut e.additional))
                .chain(derived.actions.iter_mut().flat_map(|a| {
                    a.factors
                        .iter_mut()
                        .chain(a.costs.iter_mut().flat_map(|c| c.factors.iter_mut()))
                }))
                .find(|f| &f.path == path)
                .ok_or_else(|| format!("the scenario has no factor {path} in scope"))?;
            factor.dist = Dist::new(Spec::Fixed { value: *value })
                .map_err(|problems| format!("{path} = {value}: {}", problems.join("; ")))?;
        }
        for (icb, path, value) in &scope.icb_conditions {
            if derived.factor(path).is_none() {
                return Err(format!("the scenario has no factor {path} in scope"));
            }
            derived
                .overrides
                .retain(|o| !(o.icb.eq_ignore_ascii_case(icb) && &o.factor == path));
            derived.overrides.push(Override {
                icb: icb.clone(),
                factor: path.clone(),
                dist: Dist::new(Spec::Fixed { value: *value }).map_err(|problems| {
                    format!("{icb}:{path} = {value}: {}", problems.join("; "))
                })?,
                source: Some("known for the published figure".to_string()),
                line: None,
            });
        }
        // An ICB's own value of a factor out of scope, or known for every ICB, does not apply.
        let in_scope: Vec<String> = derived
            .labelled_factors()
            .map(|(_, f)| f.path.clone())
            .collect();
        derived.overrides.retain(|o| {
            in_scope.contains(&o.factor) && !scope.conditions.iter().any(|(p, _)| p == &o.factor)
        });
        derived.keep_drawn_correlations();
        Ok(derived)
    }
}

impl Scenario {
    /// The scenario whose cost is the activity `name`: only the lines that count it (and the
    /// actions that have them), each without its `unit_cost` factor and without the factors
    /// that count in one cost view only, in every view, so that its "cost" is the number of
    /// units of the activity (removed activity, for a negative line, is negative). Every
    /// factor it keeps has the stream it has here, so iteration *i* draws what the scenario's
    /// iteration *i* draws (unless the national factors are drawn together for the whole run).
    /// `Err` when no line counts the activity.
    pub fn for_activity(&self, name: &str) -> Result<Scenario, String> {
        let mut derived = self.clone();
        for action in &mut derived.actions {
            action
                .costs
                .retain(|c| c.activity.as_ref().is_some_and(|a| a.name == name));
            action.factors.retain(|f| f.view.is_none());
            for line in &mut action.costs {
                let price = line.activity.take().and_then(|a| a.unit_cost);
                line.factors
                    .retain(|f| f.view.is_none() && Some(&f.name) != price.as_ref());
                line.views = vec![CostView::IcbCash, CostView::Economic];
            }
        }
        derived.actions.retain(|a| !a.costs.is_empty());
        if derived.actions.is_empty() {
            return Err(format!("no cost line of the scenario counts {name}"));
        }
        if let Some(e) = &mut derived.engagement {
            if e.additional.as_ref().is_some_and(|f| f.view.is_some()) {
                e.additional = None;
            }
        }
        let kept: Vec<String> = derived
            .labelled_factors()
            .map(|(_, f)| f.path.clone())
            .collect();
        derived.overrides.retain(|o| kept.contains(&o.factor));
        derived.keep_drawn_correlations();
        Ok(derived)
    }

    /// This scenario with `option` taken: each factor it sets has the option's value or
    /// distribution (for every ICB, in place of any ICB's own value; or, for an option of one
    /// ICB, as that ICB's own input), drawn from the factor's own stream, and its cost lines
    /// are one more action ([`option_action_id`]), not engaged, over the whole horizon. Every
    /// other factor keeps its stream and distribution, so iteration *i* draws what the
    /// scenario's iteration *i* draws (common random numbers). An option of one ICB still adds
    /// its lines for every ICB: the model keeps them for that ICB alone
    /// (`Model::only_for`).
    pub fn with_option(&self, option: &DecisionOption) -> Scenario {
        let mut derived = self.clone();
        for set in &option.set {
            match &option.icb {
                None => {
                    if let Some(f) = derived.factor_mut(&set.factor) {
                        f.dist = set.dist.clone();
                    }
                    derived.overrides.retain(|o| o.factor != set.factor);
                }
                Some(icb) => {
                    derived
                        .overrides
                        .retain(|o| !(o.icb.eq_ignore_ascii_case(icb) && o.factor == set.factor));
                    derived.overrides.push(Override {
                        icb: icb.clone(),
                        factor: set.factor.clone(),
                        dist: set.dist.clone(),
                        source: set.source.clone().or_else(|| option.source.clone()),
                        line: Some(option.line),
                    });
                }
            }
        }
        if !option.costs.is_empty() {
            let id = option_action_id(&option.id);
            // Every practice takes part in an option (what matters at practice level, where
            // each action needs its share of practices taking part).
            let path = format!("options.{}.factors.taking_part", option.id);
            let everyone = Factor {
                name: "taking_part".to_string(),
                stream: crate::rng::key(&path),
                path,
                dist: Dist::new(Spec::Fixed { value: 1.0 }).expect("a finite value"),
                vary: Vary::National,
                source: None,
                assumption: false,
                participation: true,
                view: None,
                baseline: None,
                region_correlation: 0.0,
                line: option.line,
                price: None,
            };
            derived.actions.push(Action {
                id,
                label: option.label.clone(),
                description: String::new(),
                timing: Timing {
                    start: self.start,
                    end: None,
                    notice_months: 0,
                    ramp: Ramp::Linear { months: 1 },
                    recovery: None,
                },
                engaged: false,
                factors: vec![everyone],
                costs: option.costs.clone(),
            });
        }
        derived.keep_drawn_correlations();
        derived
    }

    /// The factor at `path`, to change it (the engagement's or an action's).
    fn factor_mut(&mut self, path: &str) -> Option<&mut Factor> {
        self.engagement
            .iter_mut()
            .flat_map(|e| std::iter::once(&mut e.icb).chain(&mut e.additional))
            .chain(self.actions.iter_mut().flat_map(|a| {
                a.factors
                    .iter_mut()
                    .chain(a.costs.iter_mut().flat_map(|c| c.factors.iter_mut()))
            }))
            .find(|f| f.path == path)
    }

    /// This scenario settled in month `m`: every action (and every cost line with its own
    /// timing) ends at `m` at the latest, with its recovery after the end as the scenario
    /// states it. An action that already ends earlier keeps its end; one that starts after `m`
    /// has no effect. Nothing else changes, so the draws are those of the scenario (common
    /// random numbers across settlement months).
    pub fn settled_in(&self, m: Month) -> Scenario {
        let mut settled = self.clone();
        let settle = |t: &mut super::Timing| {
            t.end = Some(t.end.map_or(m, |end| end.min(m)));
        };
        for action in &mut settled.actions {
            settle(&mut action.timing);
            for line in &mut action.costs {
                settle(&mut line.timing);
            }
        }
        settled
    }
}

impl Scenario {
    /// Drops the correlations that name a factor no longer drawn (fixed, or gone).
    fn keep_drawn_correlations(&mut self) {
        let drawn = |path: &str| {
            self.factors()
                .any(|(_, f)| f.path == path && !f.dist.is_fixed())
        };
        let correlations = self
            .correlations
            .iter()
            .filter(|c| drawn(&c.a) && drawn(&c.b))
            .cloned()
            .collect();
        self.correlations = correlations;
    }
}

/// The id of the action that holds option `id`'s cost lines in [`Scenario::with_option`].
pub fn option_action_id(id: &str) -> String {
    format!("option:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const TEXT: &str = r#"
[scenario]
name = "S"
start = "2024-08"
months = 6

[actions.a]
label = "A"
start = "2024-08"
[actions.a.factors]
share = { dist = "uniform", min = 0.2, max = 0.4 }
[[actions.a.costs]]
label = "a line"
driver = "registered_patients"
factors = { unit = { dist = "normal", mean = 2.0, sd = 0.5 } }

[actions.b]
label = "B"
start = "2025-06"
[[actions.b.costs]]
label = "b line"
factors = { fee = { dist = "fixed", value = 3.0 } }

[[correlations]]
between = ["actions.a.factors.share", "actions.a.costs[0].factors.unit"]
rank_correlation = 0.5
"#;

    fn scenario() -> Scenario {
        super::super::parse(TEXT, "s.toml", Path::new("")).unwrap()
    }

    fn month(text: &str) -> Month {
        text.parse().unwrap()
    }

    #[test]
    fn an_empty_scope_keeps_the_scenario() {
        let s = scenario();
        let d = s.within(&Scope::default()).unwrap();
        assert_eq!(format!("{d:?}"), format!("{s:?}"));
    }

    #[test]
    fn actions_period_view_and_conditions_are_applied() {
        let s = scenario();
        let d = s
            .within(&Scope {
                actions: Some(vec!["a".into()]),
                period: Some((month("2024-08"), month("2025-07"))),
                cost_view: Some(CostView::Economic),
                conditions: vec![("actions.a.factors.share".into(), 0.65)],
                icb_conditions: vec![("I5".into(), "actions.a.costs[0].factors.unit".into(), 3.0)],
            })
            .unwrap();
        assert_eq!(d.actions.len(), 1);
        assert_eq!(d.actions[0].id, "a");
        assert_eq!((d.start, d.months), (month("2024-08"), 12));
        assert_eq!(d.cost_view, CostView::Economic);
        let share = &d.actions[0].factors[0];
        assert!(share.dist.is_fixed());
        assert_eq!(share.dist.mean(), 0.65);
        // The correlation names a factor that is no longer drawn.
        assert!(d.correlations.is_empty());
        // An ICB's known value is that ICB's own input.
        assert_eq!(d.overrides.len(), 1);
        let own = &d.overrides[0];
        assert_eq!(
            (own.icb.as_str(), own.factor.as_str()),
            ("I5", "actions.a.costs[0].factors.unit")
        );
        assert!(own.dist.is_fixed() && own.dist.mean() == 3.0);
        assert_eq!(s.correlations.len(), 1, "the scenario itself is unchanged");
    }

    #[test]
    fn what_the_scenario_cannot_express_is_said() {
        let s = scenario();
        let scope = |actions: &[&str], period: (&str, &str), condition: Option<&str>| Scope {
            actions: Some(actions.iter().map(|a| a.to_string()).collect()),
            period: Some((month(period.0), month(period.1))),
            cost_view: None,
            conditions: condition
                .map(|p| (p.to_string(), 1.0))
                .into_iter()
                .collect(),
            icb_conditions: Vec::new(),
        };
        for (scope, reason) in [
            (
                scope(&["a", "stop_rationing"], ("2024-08", "2025-01"), None),
                "the scenario has no action stop_rationing",
            ),
            (
                scope(&["b"], ("2024-08", "2025-01"), None),
                "none of the actions in scope acts between 2024-08 and 2025-01",
            ),
            (
                scope(
                    &["a"],
                    ("2024-08", "2025-01"),
                    Some("actions.b.costs[0].factors.fee"),
                ),
                "the scenario has no factor actions.b.costs[0].factors.fee in scope",
            ),
            (
                scope(&["a"], ("2025-01", "2024-08"), None),
                "the period 2025-01 to 2024-08 is not 1 to 600 months",
            ),
        ] {
            assert_eq!(s.within(&scope).unwrap_err(), reason);
        }
    }

    #[test]
    fn a_period_after_the_end_keeps_an_action_whose_recovery_reaches_into_it() {
        let text = "[scenario]\nname = \"S\"\nstart = \"2024-08\"\nmonths = 6\n\
                    [actions.a]\nend = \"2024-09\"\nrecovery = { \"6\" = 0 }\n\
                    [[actions.a.costs]]\nfactors = { k = 1 }\n";
        let s = super::super::parse(text, "s.toml", Path::new("")).unwrap();
        let period = |first: &str, last: &str| Scope {
            period: Some((month(first), month(last))),
            ..Scope::default()
        };
        // The recovery lasts to 2025-02 (none left 6 months after the September end).
        let d = s.within(&period("2025-02", "2025-04")).unwrap();
        assert_eq!(d.actions[0].timing, s.actions[0].timing);
        assert_eq!(
            s.within(&period("2025-03", "2025-04")).unwrap_err(),
            "none of the actions in scope acts between 2025-03 and 2025-04"
        );
    }
}

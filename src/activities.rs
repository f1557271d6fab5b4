//! The activities a cost line may count: NHS activity that collective action adds or removes,
//! named as scenario files (`activity = "..."`), benchmark tables (`activity`, `unit`) and
//! `data activity` name them. One list, here; `docs/scenarios.md` documents it.

/// One activity of the vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Activity {
    /// The name files use.
    pub name: &'static str,
    /// What is counted, in the plural, as tables and briefings show it.
    pub label: &'static str,
    /// Where the activity is published, if it is, for readers who want to check the model
    /// against what happened.
    pub published_in: &'static str,
}

/// Every activity a cost line may count, in the order outputs list them.
pub const VOCABULARY: &[Activity] = &[
    Activity {
        name: "gp_appointments",
        label: "GP appointments",
        published_in: "NHS England, Appointments in General Practice (HCP_TYPE GP), monthly",
    },
    Activity {
        name: "practice_appointments",
        label: "general practice appointments (all staff)",
        published_in: "NHS England, Appointments in General Practice, monthly",
    },
    Activity {
        name: "a_and_e_attendances",
        label: "A&E attendances",
        published_in: "NHS England, A&E Attendances and Emergency Admissions, monthly",
    },
    Activity {
        name: "ucc_attendances",
        label: "urgent treatment centre attendances",
        published_in: "NHS England, A&E Attendances and Emergency Admissions (type 3), monthly",
    },
    Activity {
        name: "nhs111_calls",
        label: "NHS 111 calls",
        published_in: "NHS England, Integrated Urgent Care Aggregate Data Collection, monthly",
    },
    Activity {
        name: "pharmacy_consultations",
        label: "community pharmacy consultations",
        published_in: "NHSBSA, Pharmacy First service data, monthly",
    },
    Activity {
        name: "update_record_messages",
        label: "pharmacy consultation records sent to practices",
        published_in: "not published by practice or ICB",
    },
    Activity {
        name: "advice_and_guidance_requests",
        label: "Advice & Guidance requests",
        published_in: "NHS England, specialist advice activity, monthly",
    },
    Activity {
        name: "outpatient_first_attendances",
        label: "first outpatient attendances",
        published_in: "NHS England, Monthly Outpatient Referrals / Hospital Episode Statistics",
    },
    Activity {
        name: "outpatient_follow_ups",
        label: "outpatient follow-up attendances",
        published_in: "NHS England, Hospital Episode Statistics, monthly",
    },
    Activity {
        name: "diagnostic_tests",
        label: "direct-access diagnostic tests",
        published_in: "NHS England, Diagnostic Imaging Dataset / DM01, monthly",
    },
    Activity {
        name: "non_elective_admissions",
        label: "non-elective admissions",
        published_in: "NHS England, A&E Attendances and Emergency Admissions, monthly",
    },
];

/// The activity named `name`.
pub fn find(name: &str) -> Option<&'static Activity> {
    VOCABULARY.iter().find(|a| a.name == name)
}

/// Every name, as a problem lists them.
pub fn names() -> String {
    VOCABULARY
        .iter()
        .map(|a| a.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The position of `name` in [`VOCABULARY`] (unknown names last), for listing in its order.
pub fn order(name: &str) -> usize {
    VOCABULARY
        .iter()
        .position(|a| a.name == name)
        .unwrap_or(VOCABULARY.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_lower_snake_case_and_found() {
        for (i, a) in VOCABULARY.iter().enumerate() {
            assert!(
                a.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{}",
                a.name
            );
            assert_eq!(find(a.name), Some(a));
            assert_eq!(order(a.name), i);
        }
        assert_eq!(find("appointments"), None);
        assert_eq!(order("appointments"), VOCABULARY.len());
        assert!(names().starts_with("gp_appointments, practice_appointments, "));
    }
}

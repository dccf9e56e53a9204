//! Workflow validation and the runtime on arbitrary JSON: every definition that deserializes
//! is validated without panicking; a valid one runs an instance without panicking either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rules::{
    time::Timestamp,
    workflow::{Actor, Instance, Workflow, WorkflowDefinition, validate},
};

fuzz_target!(|data: &[u8]| {
    let Ok(definition) = serde_json::from_slice::<WorkflowDefinition>(data) else { return };
    let problems = validate(&definition);
    let has_errors = problems.iter().any(|p| p.is_error());
    match Workflow::new(definition) {
        Err(_) => assert!(has_errors),
        Ok(workflow) => {
            assert!(!has_errors);
            let now = Timestamp::from_millis(1_800_000_000_000);
            let Ok(instance): Result<Instance, _> = workflow.begin(Default::default(), now) else { return };
            let actor = Actor { id: None, roles: vec!["buyer".into(), "approver".into()] };
            let later = Timestamp::from_millis(1_900_000_000_000);
            if let Ok(options) = workflow.available(&instance, &actor, later) {
                for o in options {
                    let _ = workflow.fire(&instance, &o.transition, &actor, later);
                    let _ = workflow.fire_timer(&instance, &o.transition, later);
                }
            }
            let _ = workflow.timers(&instance, later);
            let _ = workflow.on_event(&instance, "order.updated", later);
        }
    }
});

//! The two sales pipelines ("New business" and "Renewal") with globally numbered stages, and the
//! per-pipeline view the opportunity generator works with.

use model::{ForecastCategory, Pipeline, PipelineId, Stage, StageId, StageKind};

/// (name, probability, kind) per stage, in order.
type StageDef = (&'static str, i32, StageKind, &'static str);

const NEW_BUSINESS: [StageDef; 7] = [
    ("Prospecting", 10, StageKind::Open, ""),
    ("Qualification", 20, StageKind::Open, "next_step"),
    ("Needs analysis", 40, StageKind::Open, ""),
    ("Proposal", 60, StageKind::Open, "amount,close_date"),
    ("Negotiation", 80, StageKind::Open, ""),
    ("Closed won", 100, StageKind::Won, ""),
    ("Closed lost", 0, StageKind::Lost, ""),
];

const RENEWAL: [StageDef; 4] = [
    ("Renewal due", 50, StageKind::Open, ""),
    ("Renewal negotiation", 75, StageKind::Open, ""),
    ("Renewed", 100, StageKind::Won, ""),
    ("Churned", 0, StageKind::Lost, ""),
];

pub(crate) fn build() -> Vec<Pipeline> {
    let mut next_stage = 1;
    [("New business", &NEW_BUSINESS[..]), ("Renewal", &RENEWAL[..])]
        .into_iter()
        .enumerate()
        .map(|(i, (name, defs))| {
            let pipeline_id = PipelineId(i as i64 + 1);
            let stages = defs
                .iter()
                .enumerate()
                .map(|(pos, &(stage_name, probability, kind, exit))| {
                    let id = StageId(next_stage);
                    next_stage += 1;
                    Stage {
                        id,
                        pipeline_id,
                        name: stage_name.to_string(),
                        position: pos as i32 + 1,
                        probability,
                        kind,
                        exit_criteria: Stage::parse_exit_criteria(exit).expect("demo exit criteria are valid"),
                    }
                })
                .collect();
            Pipeline { id: pipeline_id, name: name.to_string(), stages, methodology: String::new(), criteria: vec![] }
        })
        .collect()
}

/// The forecast category a rep would normally pick for an open stage of this probability.
pub(crate) fn default_forecast(probability: i32) -> ForecastCategory {
    match probability {
        ..30 => ForecastCategory::Pipeline,
        30..70 => ForecastCategory::BestCase,
        _ => ForecastCategory::Commit,
    }
}

/// One pipeline as the opportunity generator needs it.
pub(crate) struct StageSet {
    pub pipeline: PipelineId,
    /// Open stages in order, with their default forecast category.
    pub open: Vec<(StageId, ForecastCategory)>,
    /// How often an open opportunity sits in each open stage: thinning towards the end.
    pub open_weights: Vec<f64>,
    pub won: StageId,
    pub lost: StageId,
}

impl StageSet {
    pub(crate) fn of(p: &Pipeline) -> StageSet {
        let open: Vec<(StageId, ForecastCategory)> = p
            .stages
            .iter()
            .filter(|s| s.kind == StageKind::Open)
            .map(|s| (s.id, default_forecast(s.probability)))
            .collect();
        let open_weights = match open.len() {
            5 => vec![35.0, 25.0, 18.0, 13.0, 9.0],
            2 => vec![65.0, 35.0],
            n => (0..n).map(|k| (n - k) as f64).collect(),
        };
        let find =
            |kind| p.stages.iter().find(|s| s.kind == kind).map(|s| s.id).expect("pipeline has won and lost stages");
        StageSet { pipeline: p.id, open, open_weights, won: find(StageKind::Won), lost: find(StageKind::Lost) }
    }
}

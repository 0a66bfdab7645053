//! The KPI catalogue (A1): every KPI the specification names, with its stable name, unit and the
//! fact source it is computed from. Definitions are in `docs/kpis.md`.

use serde::{Deserialize, Serialize};

/// A KPI the engine knows. Those whose data the CRM does not carry yet are listed too: they
/// always compute to `NoData` with the reason, so a dashboard shows the gap instead of a zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kpi {
    // Opportunities.
    OpportunitiesCreated,
    DealsClosed,
    DealsLost,
    Revenue,
    WinRate,
    DealClosingRate,
    SalesCycleLength,
    OpenPipeline,
    AverageRevenuePerRep,
    RevenueGrowth,
    // Leads.
    LeadsGenerated,
    LeadQualificationRate,
    LeadFollowUpTime,
    // Activities.
    CallsPlaced,
    TalkTime,
    EmailsSent,
    MeetingsHeld,
    Visits,
    VisitsPerSale,
    FieldConversion,
    DataEntries,
    // Quotes.
    ProposalRate,
    QuoteResponseTime,
    ConversionOnQuotes,
    // Orders.
    CancelRate,
    PreInstallationCancellation,
    FirstTimeRight,
    // Quotas.
    QuotaAttainment,
    // Not carried by the CRM data yet.
    ForecastAccuracy,
    SellingTimeShare,
    MarketingRoi,
    NetPromoterScore,
    Churn,
    OnboardingTime,
    TicketResolutionTime,
}

/// What a KPI's number means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A number of records.
    Count,
    /// Money in the reporting currency.
    Money,
    /// A share between 0 and 1.
    Share,
    /// Achieved over planned (1 = 100 %); above 1 when over-achieved.
    Attainment,
    /// A growth factor (0.1 = +10 %); may be negative or above 1.
    Growth,
    Days,
    Minutes,
    Seconds,
    /// Records per record (visits per sale) or money per rep.
    Average,
}

/// The kind of record a KPI counts; drill-down returns records of this kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Opportunities,
    Activities,
    Leads,
    Quotes,
    Orders,
    Quotas,
    DataEntries,
    /// Data the CRM does not hold (surveys, tickets, campaign cost, forecast snapshots, time use).
    Missing,
}

impl Kpi {
    /// True when a fall is an improvement (shorter cycles, fewer cancellations), so a report
    /// colours a change by whether it is good, not by its sign.
    pub fn lower_is_better(self) -> bool {
        matches!(
            self,
            Kpi::DealsLost
                | Kpi::SalesCycleLength
                | Kpi::LeadFollowUpTime
                | Kpi::VisitsPerSale
                | Kpi::QuoteResponseTime
                | Kpi::CancelRate
                | Kpi::PreInstallationCancellation
                | Kpi::Churn
                | Kpi::OnboardingTime
                | Kpi::TicketResolutionTime
        )
    }

    pub const ALL: [Kpi; 35] = [
        Kpi::OpportunitiesCreated,
        Kpi::DealsClosed,
        Kpi::DealsLost,
        Kpi::Revenue,
        Kpi::WinRate,
        Kpi::DealClosingRate,
        Kpi::SalesCycleLength,
        Kpi::OpenPipeline,
        Kpi::AverageRevenuePerRep,
        Kpi::RevenueGrowth,
        Kpi::LeadsGenerated,
        Kpi::LeadQualificationRate,
        Kpi::LeadFollowUpTime,
        Kpi::CallsPlaced,
        Kpi::TalkTime,
        Kpi::EmailsSent,
        Kpi::MeetingsHeld,
        Kpi::Visits,
        Kpi::VisitsPerSale,
        Kpi::FieldConversion,
        Kpi::DataEntries,
        Kpi::ProposalRate,
        Kpi::QuoteResponseTime,
        Kpi::ConversionOnQuotes,
        Kpi::CancelRate,
        Kpi::PreInstallationCancellation,
        Kpi::FirstTimeRight,
        Kpi::QuotaAttainment,
        Kpi::ForecastAccuracy,
        Kpi::SellingTimeShare,
        Kpi::MarketingRoi,
        Kpi::NetPromoterScore,
        Kpi::Churn,
        Kpi::OnboardingTime,
        Kpi::TicketResolutionTime,
    ];

    /// The stable snake_case name used by the CLI and the API (`--metric win_rate`).
    pub fn name(self) -> &'static str {
        match self {
            Kpi::OpportunitiesCreated => "opportunities_created",
            Kpi::DealsClosed => "deals_closed",
            Kpi::DealsLost => "deals_lost",
            Kpi::Revenue => "revenue",
            Kpi::WinRate => "win_rate",
            Kpi::DealClosingRate => "deal_closing_rate",
            Kpi::SalesCycleLength => "sales_cycle_length",
            Kpi::OpenPipeline => "open_pipeline",
            Kpi::AverageRevenuePerRep => "average_revenue_per_rep",
            Kpi::RevenueGrowth => "revenue_growth",
            Kpi::LeadsGenerated => "leads_generated",
            Kpi::LeadQualificationRate => "lead_qualification_rate",
            Kpi::LeadFollowUpTime => "lead_follow_up_time",
            Kpi::CallsPlaced => "calls_placed",
            Kpi::TalkTime => "talk_time",
            Kpi::EmailsSent => "emails_sent",
            Kpi::MeetingsHeld => "meetings_held",
            Kpi::Visits => "visits",
            Kpi::VisitsPerSale => "visits_per_sale",
            Kpi::FieldConversion => "field_conversion",
            Kpi::DataEntries => "data_entries",
            Kpi::ProposalRate => "proposal_rate",
            Kpi::QuoteResponseTime => "quote_response_time",
            Kpi::ConversionOnQuotes => "conversion_on_quotes",
            Kpi::CancelRate => "cancel_rate",
            Kpi::PreInstallationCancellation => "pre_installation_cancellation",
            Kpi::FirstTimeRight => "first_time_right",
            Kpi::QuotaAttainment => "quota_attainment",
            Kpi::ForecastAccuracy => "forecast_accuracy",
            Kpi::SellingTimeShare => "selling_time_share",
            Kpi::MarketingRoi => "marketing_roi",
            Kpi::NetPromoterScore => "net_promoter_score",
            Kpi::Churn => "churn",
            Kpi::OnboardingTime => "onboarding_time",
            Kpi::TicketResolutionTime => "ticket_resolution_time",
        }
    }

    /// The KPI with this [`name`](Kpi::name).
    pub fn parse(name: &str) -> Option<Kpi> {
        Kpi::ALL.into_iter().find(|k| k.name() == name)
    }

    pub fn unit(self) -> Unit {
        use Kpi::*;
        match self {
            OpportunitiesCreated | DealsClosed | DealsLost | LeadsGenerated | CallsPlaced | EmailsSent
            | MeetingsHeld | Visits | DataEntries => Unit::Count,
            Revenue | OpenPipeline => Unit::Money,
            WinRate
            | DealClosingRate
            | LeadQualificationRate
            | FieldConversion
            | ProposalRate
            | ConversionOnQuotes
            | CancelRate
            | PreInstallationCancellation
            | FirstTimeRight
            | ForecastAccuracy
            | SellingTimeShare
            | Churn => Unit::Share,
            QuotaAttainment => Unit::Attainment,
            RevenueGrowth | MarketingRoi => Unit::Growth,
            SalesCycleLength | OnboardingTime => Unit::Days,
            LeadFollowUpTime | QuoteResponseTime | TicketResolutionTime => Unit::Minutes,
            TalkTime => Unit::Seconds,
            AverageRevenuePerRep | VisitsPerSale | NetPromoterScore => Unit::Average,
        }
    }

    pub fn source(self) -> Source {
        use Kpi::*;
        match self {
            OpportunitiesCreated | DealsClosed | DealsLost | Revenue | WinRate | DealClosingRate | SalesCycleLength
            | OpenPipeline | AverageRevenuePerRep | RevenueGrowth => Source::Opportunities,
            LeadsGenerated | LeadQualificationRate | LeadFollowUpTime => Source::Leads,
            CallsPlaced | TalkTime | EmailsSent | MeetingsHeld | Visits | VisitsPerSale | FieldConversion => {
                Source::Activities
            }
            DataEntries => Source::DataEntries,
            ProposalRate | QuoteResponseTime | ConversionOnQuotes => Source::Quotes,
            CancelRate | PreInstallationCancellation | FirstTimeRight => Source::Orders,
            QuotaAttainment => Source::Quotas,
            ForecastAccuracy | SellingTimeShare | MarketingRoi | NetPromoterScore | Churn | OnboardingTime
            | TicketResolutionTime => Source::Missing,
        }
    }

    /// Why a KPI built on data the CRM does not hold has no value.
    pub fn missing_reason(self) -> Option<&'static str> {
        Some(match self {
            Kpi::ForecastAccuracy => "forecast snapshots are not part of the KPI facts (see the forecast engine, F4)",
            Kpi::SellingTimeShare => "working time per rep is not recorded, only activities",
            Kpi::MarketingRoi => "campaign cost is not recorded yet (M1)",
            Kpi::NetPromoterScore => "no NPS surveys are recorded yet (M2)",
            Kpi::Churn => "customer contracts and renewals are not recorded yet (M2)",
            Kpi::OnboardingTime => "customer onboarding is not tracked yet (M2)",
            Kpi::TicketResolutionTime => "support tickets are not recorded yet (M2)",
            _ => return None,
        })
    }
}

impl std::fmt::Display for Kpi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

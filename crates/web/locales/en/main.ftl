# salesops — English. Keys are shared by nl, da and pl; a test fails if any locale misses one.

## Navigation
nav-menu = Menu
nav-home = Today
nav-accounts = Accounts
nav-opportunities = Opportunities
nav-admin = Administration
nav-users = Users
nav-organisation = Organisation
nav-currencies = Currencies
nav-audit = Audit log
nav-you = You
nav-settings = Settings
nav-api = API
sign-in = Sign in
sign-out = Sign out
sign-in-intro = Sales & commercial operations. Sign in with your work e-mail.

## Roles
role-head-of-commercial-ops = Head of Commercial Operations
role-sales-ops-manager = Sales Operations Manager
role-marketing-ops = Marketing Operations Manager
role-customer-success-ops = Customer Success Operations Manager
role-data-analyst = Data Analyst
role-crm-admin = CRM Administrator
role-sales-manager = Sales Manager
role-sales-rep = Sales Rep
role-finance = Finance

## Common
search = Search
all = All
apply = Apply
save = Save
previous = Previous
next = Next
export-csv = Export CSV
go-back = Go back
nothing-here = Nothing here yet.
active = Active
inactive = Inactive
local-time = local time
rows-count = { $count ->
    [one] { $shown } row
   *[other] { $shown } rows
}
page-range = { $from }–{ $to } of { $total }
count-all = Count all
rows-count-more = more than { $count } rows
page-range-more = { $from }–{ $to } of more than { $total }
flash-saved = Saved.
flash-done = Done.
flash-password-changed = Your password was changed. Other sessions were signed out.
flash-token-revoked = The token was revoked.

## Columns and fields
col-name = Name
col-account = Account
col-opportunity = Opportunity
col-owner = Owner
col-stage = Stage
col-status = Status
col-amount = Amount
col-close-date = Close date
col-region = Region
col-country = Country
col-industry = Industry
col-employees = Employees
col-role = Role
col-team = Team
col-manager = Manager
col-probability = Probability
col-pipeline = Pipeline
col-forecast-category = Forecast category
field-email = E-mail
field-password = Password
field-current-password = Current password
field-new-password = New password
field-initial-password = Initial password
field-time-zone = Time zone
field-language = Language
field-currency = Currency
field-code = Code
field-postal-code = Postal code
field-created = Created
field-updated = Updated
stage-kind-open = Open
stage-kind-won = Won
stage-kind-lost = Lost
forecast-pipeline = Pipeline
forecast-best-case = Best case
forecast-commit = Commit
forecast-closed = Closed
forecast-omitted = Omitted

## Home
home-greeting = Good to see you, { $name }
home-open-opportunities = Open opportunities
home-open-pipeline = Open pipeline
home-closing-this-month = Closing this month
home-accounts = Accounts
home-next-closing = Next to close
scope-own = Your own records
scope-team = You and your team
scope-all = The whole company
in-reporting-currency = In reporting currency
no-fx-rate = no exchange rate

## Administration
user-new = New user
audit-history = History
regions = Regions
teams = Teams
region-add = Add region
team-add = Add team
reporting-currency = Reporting currency
fx-rates = Exchange rates
fx-from = From
fx-to = To
fx-valid-from = Valid from
fx-rate = Rate
fx-latest-note = The 60 newest rates are shown; a rate holds from its date until the next one. All rates are in the API.
audit-intro = Every change, who made it, when and from where. The log cannot be edited.
audit-when = When
audit-who = Who
audit-action = Action
audit-entity = Record
audit-entity-id = Record id
audit-actor-id = User id
audit-from = From
audit-before = Before
audit-after = After
audit-system = system
audit-token = API token

## Settings
preferences = Preferences
change-password = Change password
api-tokens = API tokens
token-scope = Scope
scope-read = Read only
scope-write = Read and write
token-days = Valid for (days)
token-create = Create token
token-created = Your new API token
token-shown-once = Copy it now: it is shown only once and stored only as a hash.
token-prefix = Token
token-expires = Expires
token-last-used = Last used
token-revoke = Revoke
token-revoked = Revoked or expired

## API
api-intro = A JSON API for everything in the UI. The machine-readable OpenAPI 3.1 document:
api-method = Method
api-path = Path
api-summary = Description

## Errors
error-not-found = Not found
error-not-found-detail = This record does not exist, or you do not have access to it.
error-forbidden = Not allowed
error-forbidden-detail = Your role does not allow this.
error-invalid = Please check your input
error-internal = Something went wrong
error-internal-detail = An internal error occurred. It has been logged.
error-bad-credentials = Invalid e-mail or password.
error-form-expired = The form expired. Please try again.
error-rate-limited = Too many attempts. Try again in { $seconds } seconds.

## Audit vocabulary
audit-action-create = created
audit-action-update = changed
audit-action-sign-in = signed in
audit-action-sign-out = signed out
audit-action-change-password = changed password
audit-action-revoke = revoked
audit-action-set = set
audit-action-export = exported
audit-action-bulk-load = bulk load
audit-entity-user = user
audit-entity-team = team
audit-entity-region = region
audit-entity-session = session of user
audit-entity-api-token = API token
audit-entity-fx-rate = exchange rate
audit-entity-setting = setting
audit-entity-company = company data
audit-entity-audit-log = audit log
audit-entity-accounts = accounts
audit-entity-opportunities = opportunities

## CRM
nav-leads = Leads
nav-import = Import
nav-sales-process = Sales process
activities = Activities
add = Add
col-by = By
col-company = Company
col-email = E-mail
col-from = From
col-to = To
col-kind = Kind
col-minutes = Minutes
col-subject = Subject
col-when = When
convert = Convert
convert-lead = Convert to customer
convert-existing-account = Existing account id (optional)
convert-new-account = empty: a new account from the company name
convert-with-opportunity = Also create an opportunity
create-anyway = Create anyway: this is not a duplicate
days-count = { $count ->
    [one] { $shown } day
   *[other] { $shown } days
}
exit-criteria = Exit criteria
exit-criteria-met = Ready to leave this stage ({ $fields } filled in).
exit-criteria-missing = To move forward, fill in: { $fields }.
field-campaign = Campaign
field-engaged-on = Engaged on
field-first-name = First name
field-last-name = Last name
field-lead-source = Lead source
field-loss-reason = Loss reason
field-loss-reason-when-lost = Loss reason (needed when lost)
field-next-step = Next step
field-phone = Phone
field-reason = Reason
field-amount = Amount
field-close-date = Close date
in-stage-for = in this stage for
lead-converted = Converted:
lead-history = Lifecycle history
lead-lifecycle = Lifecycle
lead-merged-into = This lead was merged into
log-activity = Log
loss-reasons = Loss reasons
merge-into-this = Merge into this lead
minutes = { $n } min
move = Move
move-stage = Move to another stage
new-lead = New lead
new-loss-reason = New loss reason
possible-duplicates = Possible duplicates
sales-process-intro = Stages and their exit criteria: the fields an opportunity needs before it may move on. Fields:
stage-history = Stage history
source-import = import
source-demo = demo data
source-api = API
source-ui = web
source-conversion = lead conversion
activity-call = Call
activity-email = E-mail
activity-meeting = Meeting
activity-task = Task
activity-note = Note
activity-visit = Field visit
outcome-connected = connected
outcome-voicemail = voicemail
outcome-no-answer = no answer
outcome-held = held
outcome-done = done
outcome-not-home = not home
outcome-no-interest = no interest
outcome-callback = callback
outcome-sale = sale
lead-status-new = New
lead-status-working = Working
lead-status-nurture = Nurture
lead-status-qualified = Qualified
lead-status-disqualified = Disqualified
lead-status-converted = Converted
lead-action-working = Start working / re-enter
lead-action-qualified = Qualify
lead-action-nurture = Move to nurture
lead-action-disqualified = Disqualify (reason)
duplicate-email = same e-mail
duplicate-phone = same phone
duplicate-domain = same web domain
duplicate-company = same company
duplicate-similar-company = similar company name
audit-action-move = moved
audit-action-status = changed status
audit-action-convert = converted
audit-action-merge = merged
audit-action-import = imported
audit-entity-opportunity = opportunity
audit-entity-lead = lead
audit-entity-contact = contact
audit-entity-account = account
audit-entity-activity = activity
audit-entity-loss-reason = loss reason
audit-entity-stage = stage
import-intro = Bring your records from Salesforce, HubSpot, salesops or any CSV (with a mapping file). Check first: nothing is written until the whole file is valid, and importing the same file again changes nothing.
import-what = What the file holds
import-format = Format
import-file = CSV file
import-mapping = Mapping file (optional, TOML)
import-create-missing = Create accounts that the file refers to but that do not exist yet
import-check = Check (dry run)
import-apply = Import
import-no-file = Choose a CSV file first.
import-line = Line
import-row = Row
import-column = Column
import-value = Value
import-ignored-columns = Columns that are not imported:
import-ready = The file is valid. Press Import to write it.
import-see-records = See the records
import-more-problems = … and { $count } more problems.
import-result-checked = { $rows } rows checked: { $new } new, { $changed } changed, { $unchanged } unchanged. Nothing was written yet.
import-entity-opportunities = Opportunities
import-entity-accounts = Accounts
import-entity-contacts = Contacts
import-entity-leads = Leads
import-entity-activities = Activities
import-preset-auto = Detect from the header
import-preset-salesforce = Salesforce export
import-preset-hubspot = HubSpot export
import-preset-salesops = salesops export
import-result-problems = Nothing was written: { $problems ->
    [one] one problem
   *[other] { $problems_shown } problems
} to fix (rows read: { $rows }).
import-result-applied = Imported: { $new } new, { $changed } changed, { $unchanged } unchanged (rows read: { $rows }).{ $accounts ->
    [0] {""}
    [one] {" "}One account was created.
   *[other] {" "}{ $accounts } accounts were created.
}
contacts = Contacts
field-domain = Web domain
exit-score = { $criterion } scored at least "confirmed"
scorecard = Qualification scorecard
scorecard-add = Add criteria (comma separated)
methodology = Methodology
methodology-meddic = MEDDIC
methodology-spin = SPIN Selling
methodology-bant = BANT
methodology-custom = Own criteria
score-0 = 0 · unknown
score-1 = 1 · weak
score-2 = 2 · confirmed
score-3 = 3 · strong
col-note = Note
audit-action-score = scored
audit-entity-scorecard = scorecard

# Lists: search, sort, JSON export (issue 4, lists)
lists-export-json = Export JSON

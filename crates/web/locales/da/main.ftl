# salesops — dansk. Nøglerne deles af nl, da og pl; en test fejler, hvis et sprog mangler en af dem.

## Navigation
nav-menu = Menu
nav-home = I dag
nav-accounts = Kunder
nav-opportunities = Salgsmuligheder
nav-admin = Administration
nav-users = Brugere
nav-organisation = Organisation
nav-currencies = Valutaer
nav-audit = Revisionslog
nav-you = Dig
nav-settings = Indstillinger
nav-api = API
sign-in = Log ind
sign-out = Log ud
sign-in-intro = Salg og kommerciel drift. Log ind med din arbejdsmail.

## Roller
role-head-of-commercial-ops = Chef for kommerciel drift
role-sales-ops-manager = Sales Operations Manager
role-marketing-ops = Marketing Operations Manager
role-customer-success-ops = Customer Success Operations Manager
role-data-analyst = Dataanalytiker
role-crm-admin = CRM-administrator
role-sales-manager = Salgschef
role-sales-rep = Sælger
role-finance = Økonomi

## Fælles
search = Søg
all = Alle
apply = Anvend
save = Gem
previous = Forrige
next = Næste
export-csv = Eksportér CSV
go-back = Gå tilbage
nothing-here = Her er ingenting endnu.
active = Aktiv
inactive = Inaktiv
local-time = lokal tid
rows-count = { $count ->
    [one] { $shown } række
   *[other] { $shown } rækker
}
page-range = { $from }–{ $to } af { $total }
count-all = Tæl alle
rows-count-more = mere end { $count } rækker
page-range-more = { $from }–{ $to } af mere end { $total }
flash-saved = Gemt.
flash-done = Udført.
flash-password-changed = Din adgangskode er ændret. Andre sessioner er blevet logget ud.
flash-token-revoked = Tokenet er tilbagekaldt.

## Kolonner og felter
col-name = Navn
col-account = Kunde
col-opportunity = Salgsmulighed
col-owner = Ejer
col-stage = Fase
col-status = Status
col-amount = Beløb
col-close-date = Lukkedato
col-region = Region
col-country = Land
col-industry = Branche
col-employees = Medarbejdere
col-role = Rolle
col-team = Team
col-manager = Leder
col-probability = Sandsynlighed
col-pipeline = Pipeline
col-forecast-category = Prognosekategori
field-email = E-mail
field-password = Adgangskode
field-current-password = Nuværende adgangskode
field-new-password = Ny adgangskode
field-initial-password = Første adgangskode
field-time-zone = Tidszone
field-language = Sprog
field-currency = Valuta
field-code = Kode
field-postal-code = Postnummer
field-created = Oprettet
field-updated = Opdateret
stage-kind-open = Åben
stage-kind-won = Vundet
stage-kind-lost = Tabt
forecast-pipeline = Pipeline
forecast-best-case = Bedste scenarie
forecast-commit = Commit
forecast-closed = Lukket
forecast-omitted = Udeladt

## Forside
home-greeting = Godt at se dig, { $name }
home-open-opportunities = Åbne salgsmuligheder
home-open-pipeline = Åben pipeline
home-closing-this-month = Lukker denne måned
home-accounts = Kunder
home-next-closing = Lukker snart
scope-own = Dine egne poster
scope-team = Dig og dit team
scope-all = Hele virksomheden
in-reporting-currency = I rapporteringsvaluta
no-fx-rate = ingen valutakurs

## Administration
user-new = Ny bruger
audit-history = Historik
regions = Regioner
teams = Teams
region-add = Tilføj region
team-add = Tilføj team
reporting-currency = Rapporteringsvaluta
fx-rates = Valutakurser
fx-from = Fra
fx-to = Til
fx-valid-from = Gyldig fra
fx-rate = Kurs
fx-latest-note = De 60 nyeste kurser vises; en kurs gælder fra sin dato indtil den næste. Alle kurser findes i API'et.
audit-intro = Hver ændring, hvem der foretog den, hvornår og hvorfra. Loggen kan ikke redigeres.
audit-when = Hvornår
audit-who = Hvem
audit-action = Handling
audit-entity = Post
audit-entity-id = Post-id
audit-actor-id = Bruger-id
audit-from = Hvorfra
audit-before = Før
audit-after = Efter
audit-system = system
audit-token = API-token

## Indstillinger
preferences = Præferencer
change-password = Skift adgangskode
api-tokens = API-tokens
token-scope = Adgang
scope-read = Kun læsning
scope-write = Læsning og skrivning
token-days = Gyldig i (dage)
token-create = Opret token
token-created = Dit nye API-token
token-shown-once = Kopiér det nu: det vises kun én gang og gemmes kun som en hash.
token-prefix = Token
token-expires = Udløber
token-last-used = Sidst brugt
token-revoke = Tilbagekald
token-revoked = Tilbagekaldt eller udløbet

## API
api-intro = Et JSON-API til alt i brugerfladen. Det maskinlæsbare OpenAPI 3.1-dokument:
api-method = Metode
api-path = Sti
api-summary = Beskrivelse

## Fejl
error-not-found = Ikke fundet
error-not-found-detail = Denne post findes ikke, eller du har ikke adgang til den.
error-forbidden = Ikke tilladt
error-forbidden-detail = Din rolle tillader ikke dette.
error-invalid = Kontrollér dine indtastninger
error-internal = Noget gik galt
error-internal-detail = Der opstod en intern fejl. Den er blevet logget.
error-bad-credentials = Ugyldig e-mail eller adgangskode.
error-form-expired = Formularen er udløbet. Prøv igen.
error-rate-limited = For mange forsøg. Prøv igen om { $seconds } sekunder.

## Revisionsordforråd
audit-action-create = oprettet
audit-action-update = ændret
audit-action-sign-in = logget ind
audit-action-sign-out = logget ud
audit-action-change-password = adgangskode ændret
audit-action-revoke = tilbagekaldt
audit-action-set = sat
audit-action-export = eksporteret
audit-action-bulk-load = masseindlæsning
audit-entity-user = bruger
audit-entity-team = team
audit-entity-region = region
audit-entity-session = session for bruger
audit-entity-api-token = API-token
audit-entity-fx-rate = valutakurs
audit-entity-setting = indstilling
audit-entity-company = virksomhedsdata
audit-entity-audit-log = revisionslog
audit-entity-accounts = kunder
audit-entity-opportunities = salgsmuligheder

## CRM
nav-leads = Leads
nav-import = Import
nav-sales-process = Salgsproces
activities = Aktiviteter
add = Tilføj
col-by = Af
col-company = Virksomhed
col-email = E-mail
col-from = Fra
col-to = Til
col-kind = Type
col-minutes = Minutter
col-subject = Emne
col-when = Hvornår
convert = Konvertér
convert-lead = Konvertér til kunde
convert-existing-account = Eksisterende konto-id (valgfrit)
convert-new-account = tom: en ny konto med virksomhedens navn
convert-with-opportunity = Opret også en salgsmulighed
create-anyway = Opret alligevel: dette er ikke en dublet
days-count = { $count ->
    [one] { $shown } dag
   *[other] { $shown } dage
}
exit-criteria = Udgangskriterier
exit-criteria-met = Klar til at forlade denne fase ({ $fields } udfyldt).
exit-criteria-missing = Udfyld først for at gå videre: { $fields }.
field-campaign = Kampagne
field-engaged-on = Første kontakt
field-first-name = Fornavn
field-last-name = Efternavn
field-lead-source = Leadkilde
field-loss-reason = Tabsårsag
field-loss-reason-when-lost = Tabsårsag (kræves ved tabt)
field-next-step = Næste skridt
field-phone = Telefon
field-reason = Årsag
field-amount = Beløb
field-close-date = Lukkedato
in-stage-for = i denne fase i
lead-converted = Konverteret:
lead-history = Livscyklus
lead-lifecycle = Livscyklus
lead-merged-into = Dette lead er flettet ind i
log-activity = Registrér
loss-reasons = Tabsårsager
merge-into-this = Flet ind i dette lead
minutes = { $n } min
move = Flyt
move-stage = Flyt til en anden fase
new-lead = Nyt lead
new-loss-reason = Ny tabsårsag
possible-duplicates = Mulige dubletter
sales-process-intro = Faser og deres udgangskriterier: de felter en salgsmulighed skal have, før den må gå videre. Felter:
stage-history = Fasehistorik
source-import = import
source-demo = demodata
source-api = API
source-ui = web
source-conversion = konvertering af lead
activity-call = Opkald
activity-email = E-mail
activity-meeting = Møde
activity-task = Opgave
activity-note = Note
activity-visit = Besøg
outcome-connected = forbundet
outcome-voicemail = telefonsvarer
outcome-no-answer = intet svar
outcome-held = afholdt
outcome-done = udført
outcome-not-home = ikke hjemme
outcome-no-interest = ingen interesse
outcome-callback = ring tilbage
outcome-sale = salg
lead-status-new = Ny
lead-status-working = Under behandling
lead-status-nurture = Pleje
lead-status-qualified = Kvalificeret
lead-status-disqualified = Diskvalificeret
lead-status-converted = Konverteret
lead-action-working = Tag under behandling / genoptag
lead-action-qualified = Kvalificér
lead-action-nurture = Flyt til pleje
lead-action-disqualified = Diskvalificér (årsag)
duplicate-email = samme e-mail
duplicate-phone = samme telefon
duplicate-domain = samme webdomæne
duplicate-company = samme virksomhed
duplicate-similar-company = lignende virksomhedsnavn
audit-action-move = flyttet
audit-action-status = status ændret
audit-action-convert = konverteret
audit-action-merge = flettet
audit-action-import = importeret
audit-entity-opportunity = salgsmulighed
audit-entity-lead = lead
audit-entity-contact = kontakt
audit-entity-account = konto
audit-entity-activity = aktivitet
audit-entity-loss-reason = tabsårsag
audit-entity-stage = fase
import-intro = Hent dine data fra Salesforce, HubSpot, salesops eller enhver CSV (med en mappingfil). Kontrollér først: intet skrives, før hele filen er gyldig, og samme fil importeret igen ændrer intet.
import-what = Hvad filen indeholder
import-format = Format
import-file = CSV-fil
import-mapping = Mappingfil (valgfri, TOML)
import-create-missing = Opret konti, som filen henviser til, men som ikke findes endnu
import-check = Kontrollér (prøvekørsel)
import-apply = Importér
import-no-file = Vælg først en CSV-fil.
import-line = Linje
import-row = Række
import-column = Kolonne
import-value = Værdi
import-ignored-columns = Kolonner der ikke importeres:
import-ready = Filen er gyldig. Tryk Importér for at skrive den.
import-see-records = Se posterne
import-more-problems = … og { $count } problemer mere.
import-result-checked = { $rows } rækker kontrolleret: { $new } nye, { $changed } ændrede, { $unchanged } uændrede. Intet er skrevet endnu.
import-entity-opportunities = Salgsmuligheder
import-entity-accounts = Konti
import-entity-contacts = Kontakter
import-entity-leads = Leads
import-entity-activities = Aktiviteter
import-preset-auto = Genkend ud fra overskriften
import-preset-salesforce = Salesforce-eksport
import-preset-hubspot = HubSpot-eksport
import-preset-salesops = salesops-eksport
import-result-problems = Intet blev skrevet: { $problems ->
    [one] ét problem
   *[other] { $problems_shown } problemer
} skal rettes (rækker læst: { $rows }).
import-result-applied = Importeret: { $new } nye, { $changed } ændrede, { $unchanged } uændrede (rækker læst: { $rows }).{ $accounts ->
    [0] {""}
    [one] {" "}Én konto blev oprettet.
   *[other] {" "}{ $accounts } konti blev oprettet.
}
contacts = Kontakter
field-domain = Webdomæne
exit-score = { $criterion } mindst "bekræftet"
scorecard = Kvalifikationsscorekort
scorecard-add = Tilføj kriterier (kommasepareret)
methodology = Metode
methodology-meddic = MEDDIC
methodology-spin = SPIN Selling
methodology-bant = BANT
methodology-custom = Egne kriterier
score-0 = 0 · ukendt
score-1 = 1 · svag
score-2 = 2 · bekræftet
score-3 = 3 · stærk
col-note = Note
audit-action-score = scoret
audit-entity-scorecard = scorekort

# Lists: search, sort, JSON export (issue 4, lists)
lists-export-json = Eksportér JSON

# salesops — Nederlands. De sleutels worden gedeeld door nl, da en pl; een test faalt als een taal er een mist.

## Navigatie
nav-menu = Menu
nav-home = Vandaag
nav-accounts = Accounts
nav-opportunities = Verkoopkansen
nav-admin = Beheer
nav-users = Gebruikers
nav-organisation = Organisatie
nav-currencies = Valuta's
nav-audit = Auditlog
nav-you = Jij
nav-settings = Instellingen
nav-api = API
sign-in = Aanmelden
sign-out = Afmelden
sign-in-intro = Sales & commerciële operaties. Meld je aan met je zakelijke e-mailadres.

## Rollen
role-head-of-commercial-ops = Hoofd Commerciële Operaties
role-sales-ops-manager = Sales Operations Manager
role-marketing-ops = Marketing Operations Manager
role-customer-success-ops = Customer Success Operations Manager
role-data-analyst = Data-analist
role-crm-admin = CRM-beheerder
role-sales-manager = Salesmanager
role-sales-rep = Accountmanager
role-finance = Financiën

## Algemeen
search = Zoeken
all = Alle
apply = Toepassen
save = Opslaan
previous = Vorige
next = Volgende
export-csv = CSV exporteren
go-back = Terug
nothing-here = Hier staat nog niets.
active = Actief
inactive = Inactief
local-time = lokale tijd
rows-count = { $count ->
    [one] { $shown } rij
   *[other] { $shown } rijen
}
page-range = { $from }–{ $to } van { $total }
count-all = Alles tellen
rows-count-more = meer dan { $count } rijen
page-range-more = { $from }–{ $to } van meer dan { $total }
flash-saved = Opgeslagen.
flash-done = Klaar.
flash-password-changed = Je wachtwoord is gewijzigd. Andere sessies zijn afgemeld.
flash-token-revoked = Het token is ingetrokken.

## Kolommen en velden
col-name = Naam
col-account = Account
col-opportunity = Verkoopkans
col-owner = Eigenaar
col-stage = Fase
col-status = Status
col-amount = Bedrag
col-close-date = Sluitingsdatum
col-region = Regio
col-country = Land
col-industry = Branche
col-employees = Medewerkers
col-role = Rol
col-team = Team
col-manager = Leidinggevende
col-probability = Waarschijnlijkheid
col-pipeline = Pipeline
col-forecast-category = Forecastcategorie
field-email = E-mailadres
field-password = Wachtwoord
field-current-password = Huidig wachtwoord
field-new-password = Nieuw wachtwoord
field-initial-password = Startwachtwoord
field-time-zone = Tijdzone
field-language = Taal
field-currency = Valuta
field-code = Code
field-postal-code = Postcode
field-created = Aangemaakt
field-updated = Bijgewerkt
stage-kind-open = Open
stage-kind-won = Gewonnen
stage-kind-lost = Verloren
forecast-pipeline = Pipeline
forecast-best-case = Best case
forecast-commit = Commit
forecast-closed = Gesloten
forecast-omitted = Weggelaten

## Startpagina
home-greeting = Fijn je te zien, { $name }
home-open-opportunities = Open verkoopkansen
home-open-pipeline = Open pipeline
home-closing-this-month = Sluiten deze maand
home-accounts = Accounts
home-next-closing = Eerstvolgende sluitingen
scope-own = Je eigen records
scope-team = Jij en je team
scope-all = Het hele bedrijf
in-reporting-currency = In rapportagevaluta
no-fx-rate = geen wisselkoers

## Beheer
user-new = Nieuwe gebruiker
audit-history = Geschiedenis
regions = Regio's
teams = Teams
region-add = Regio toevoegen
team-add = Team toevoegen
reporting-currency = Rapportagevaluta
fx-rates = Wisselkoersen
fx-from = Van
fx-to = Naar
fx-valid-from = Geldig vanaf
fx-rate = Koers
fx-latest-note = De 60 nieuwste koersen worden getoond; een koers geldt vanaf de eigen datum tot de volgende. Alle koersen staan in de API.
audit-intro = Elke wijziging: wie die heeft gedaan, wanneer en vanaf waar. Het log kan niet worden bewerkt.
audit-when = Wanneer
audit-who = Wie
audit-action = Actie
audit-entity = Record
audit-entity-id = Record-id
audit-actor-id = Gebruikers-id
audit-from = Herkomst
audit-before = Vóór
audit-after = Na
audit-system = systeem
audit-token = API-token

## Instellingen
preferences = Voorkeuren
change-password = Wachtwoord wijzigen
api-tokens = API-tokens
token-scope = Rechten
scope-read = Alleen lezen
scope-write = Lezen en schrijven
token-days = Geldig gedurende (dagen)
token-create = Token aanmaken
token-created = Je nieuwe API-token
token-shown-once = Kopieer het nu: het wordt maar één keer getoond en alleen als hash opgeslagen.
token-prefix = Token
token-expires = Verloopt
token-last-used = Laatst gebruikt
token-revoke = Intrekken
token-revoked = Ingetrokken of verlopen

## API
api-intro = Een JSON-API voor alles in de interface. Het machineleesbare OpenAPI 3.1-document:
api-method = Methode
api-path = Pad
api-summary = Beschrijving

## Foutmeldingen
error-not-found = Niet gevonden
error-not-found-detail = Dit record bestaat niet, of je hebt er geen toegang toe.
error-forbidden = Niet toegestaan
error-forbidden-detail = Je rol staat dit niet toe.
error-invalid = Controleer je invoer
error-internal = Er is iets misgegaan
error-internal-detail = Er is een interne fout opgetreden. Deze is vastgelegd.
error-bad-credentials = Ongeldig e-mailadres of wachtwoord.
error-form-expired = Het formulier is verlopen. Probeer het opnieuw.
error-rate-limited = Te veel pogingen. Probeer het over { $seconds } seconden opnieuw.

## Auditwoordenschat
audit-action-create = aangemaakt
audit-action-update = gewijzigd
audit-action-sign-in = aangemeld
audit-action-sign-out = afgemeld
audit-action-change-password = wachtwoord gewijzigd
audit-action-revoke = ingetrokken
audit-action-set = ingesteld
audit-action-export = geëxporteerd
audit-action-bulk-load = bulkimport
audit-entity-user = gebruiker
audit-entity-team = team
audit-entity-region = regio
audit-entity-session = sessie van gebruiker
audit-entity-api-token = API-token
audit-entity-fx-rate = wisselkoers
audit-entity-setting = instelling
audit-entity-company = bedrijfsgegevens
audit-entity-audit-log = auditlog
audit-entity-accounts = accounts
audit-entity-opportunities = verkoopkansen

## CRM
nav-leads = Leads
nav-import = Importeren
nav-sales-process = Verkoopproces
activities = Activiteiten
add = Toevoegen
col-by = Door
col-company = Bedrijf
col-email = E-mail
col-from = Van
col-to = Naar
col-kind = Soort
col-minutes = Minuten
col-subject = Onderwerp
col-when = Wanneer
convert = Omzetten
convert-lead = Omzetten naar klant
convert-existing-account = Bestaand account-id (optioneel)
convert-new-account = leeg: een nieuw account met de bedrijfsnaam
convert-with-opportunity = Ook een verkoopkans aanmaken
create-anyway = Toch aanmaken: dit is geen dubbele
days-count = { $count ->
    [one] { $shown } dag
   *[other] { $shown } dagen
}
exit-criteria = Uitgangscriteria
exit-criteria-met = Klaar om deze fase te verlaten ({ $fields } ingevuld).
exit-criteria-missing = Vul eerst in om verder te gaan: { $fields }.
field-campaign = Campagne
field-engaged-on = Eerste contact op
field-first-name = Voornaam
field-last-name = Achternaam
field-lead-source = Leadbron
field-loss-reason = Reden van verlies
field-loss-reason-when-lost = Reden van verlies (nodig bij verloren)
field-next-step = Volgende stap
field-phone = Telefoon
field-reason = Reden
field-amount = Bedrag
field-close-date = Sluitingsdatum
in-stage-for = in deze fase sinds
lead-converted = Omgezet:
lead-history = Levenscyclus
lead-lifecycle = Levenscyclus
lead-merged-into = Deze lead is samengevoegd met
log-activity = Vastleggen
loss-reasons = Redenen van verlies
merge-into-this = Samenvoegen met deze lead
minutes = { $n } min
move = Verplaatsen
move-stage = Naar een andere fase
new-lead = Nieuwe lead
new-loss-reason = Nieuwe reden van verlies
possible-duplicates = Mogelijke dubbelen
sales-process-intro = Fasen en hun uitgangscriteria: de velden die een verkoopkans nodig heeft voordat hij verder mag. Velden:
stage-history = Fasegeschiedenis
source-import = import
source-demo = demodata
source-api = API
source-ui = web
source-conversion = omzetting van lead
activity-call = Telefoongesprek
activity-email = E-mail
activity-meeting = Afspraak
activity-task = Taak
activity-note = Notitie
activity-visit = Bezoek
outcome-connected = bereikt
outcome-voicemail = voicemail
outcome-no-answer = geen gehoor
outcome-held = gehouden
outcome-done = gedaan
outcome-not-home = niet thuis
outcome-no-interest = geen interesse
outcome-callback = terugbellen
outcome-sale = verkoop
lead-status-new = Nieuw
lead-status-working = In behandeling
lead-status-nurture = Nurture
lead-status-qualified = Gekwalificeerd
lead-status-disqualified = Gediskwalificeerd
lead-status-converted = Omgezet
lead-action-working = In behandeling nemen / opnieuw oppakken
lead-action-qualified = Kwalificeren
lead-action-nurture = Naar nurture
lead-action-disqualified = Diskwalificeren (reden)
duplicate-email = zelfde e-mail
duplicate-phone = zelfde telefoon
duplicate-domain = zelfde webdomein
duplicate-company = zelfde bedrijf
duplicate-similar-company = lijkende bedrijfsnaam
audit-action-move = verplaatst
audit-action-status = status gewijzigd
audit-action-convert = omgezet
audit-action-merge = samengevoegd
audit-action-import = geïmporteerd
audit-entity-opportunity = verkoopkans
audit-entity-lead = lead
audit-entity-contact = contactpersoon
audit-entity-account = account
audit-entity-activity = activiteit
audit-entity-loss-reason = reden van verlies
audit-entity-stage = fase
import-intro = Haal je gegevens uit Salesforce, HubSpot, salesops of elke CSV (met een mappingbestand). Controleer eerst: er wordt niets geschreven tot het hele bestand klopt, en hetzelfde bestand opnieuw importeren verandert niets.
import-what = Wat het bestand bevat
import-format = Formaat
import-file = CSV-bestand
import-mapping = Mappingbestand (optioneel, TOML)
import-create-missing = Accounts aanmaken waar het bestand naar verwijst maar die nog niet bestaan
import-check = Controleren (proefrun)
import-apply = Importeren
import-no-file = Kies eerst een CSV-bestand.
import-line = Regel
import-row = Rij
import-column = Kolom
import-value = Waarde
import-ignored-columns = Kolommen die niet worden geïmporteerd:
import-ready = Het bestand is in orde. Druk op Importeren om het te schrijven.
import-see-records = Bekijk de gegevens
import-more-problems = … en nog { $count } problemen.
import-result-checked = { $rows } rijen gecontroleerd: { $new } nieuw, { $changed } gewijzigd, { $unchanged } ongewijzigd. Er is nog niets geschreven.
import-entity-opportunities = Verkoopkansen
import-entity-accounts = Accounts
import-entity-contacts = Contactpersonen
import-entity-leads = Leads
import-entity-activities = Activiteiten
import-preset-auto = Herkennen aan de kopregel
import-preset-salesforce = Salesforce-export
import-preset-hubspot = HubSpot-export
import-preset-salesops = salesops-export
import-result-problems = Er is niets geschreven: { $problems ->
    [one] één probleem
   *[other] { $problems_shown } problemen
} op te lossen (rijen gelezen: { $rows }).
import-result-applied = Geïmporteerd: { $new } nieuw, { $changed } gewijzigd, { $unchanged } ongewijzigd (rijen gelezen: { $rows }).{ $accounts ->
    [0] {""}
    [one] {" "}Er is één account aangemaakt.
   *[other] {" "}Er zijn { $accounts } accounts aangemaakt.
}
contacts = Contactpersonen
field-domain = Webdomein
exit-score = { $criterion } minstens "bevestigd"
scorecard = Kwalificatiescorekaart
scorecard-add = Criteria toevoegen (kommagescheiden)
methodology = Methodiek
methodology-meddic = MEDDIC
methodology-spin = SPIN Selling
methodology-bant = BANT
methodology-custom = Eigen criteria
score-0 = 0 · onbekend
score-1 = 1 · zwak
score-2 = 2 · bevestigd
score-3 = 3 · sterk
col-note = Notitie
audit-action-score = gescoord
audit-entity-scorecard = scorekaart

# Lists: search, sort, JSON export (issue 4, lists)
lists-export-json = JSON exporteren

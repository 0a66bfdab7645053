# salesops — polski. Klucze są wspólne dla nl, da i pl; test kończy się błędem, jeśli w którymś języku brakuje klucza.

## Nawigacja
nav-menu = Menu
nav-home = Dziś
nav-accounts = Klienci
nav-opportunities = Szanse sprzedaży
nav-admin = Administracja
nav-users = Użytkownicy
nav-organisation = Organizacja
nav-currencies = Waluty
nav-audit = Dziennik audytu
nav-you = Ty
nav-settings = Ustawienia
nav-api = API
sign-in = Zaloguj się
sign-out = Wyloguj się
sign-in-intro = Sprzedaż i operacje handlowe. Zaloguj się służbowym adresem e-mail.

## Role
role-head-of-commercial-ops = Dyrektor ds. operacji handlowych
role-sales-ops-manager = Kierownik ds. operacji sprzedażowych
role-marketing-ops = Kierownik ds. operacji marketingowych
role-customer-success-ops = Kierownik ds. operacji Customer Success
role-data-analyst = Analityk danych
role-crm-admin = Administrator CRM
role-sales-manager = Kierownik sprzedaży
role-sales-rep = Przedstawiciel handlowy
role-finance = Finanse

## Wspólne
search = Szukaj
all = Wszystkie
apply = Zastosuj
save = Zapisz
previous = Poprzednia
next = Następna
export-csv = Eksportuj CSV
go-back = Wróć
nothing-here = Na razie nic tu nie ma.
active = Aktywny
inactive = Nieaktywny
local-time = czas lokalny
rows-count = { $count ->
    [one] { $shown } wiersz
    [few] { $shown } wiersze
    [many] { $shown } wierszy
   *[other] { $shown } wiersza
}
page-range = { $from }–{ $to } z { $total }
count-all = Policz wszystkie
rows-count-more = ponad { $count } wierszy
page-range-more = { $from }–{ $to } z ponad { $total }
flash-saved = Zapisano.
flash-done = Gotowe.
flash-password-changed = Twoje hasło zostało zmienione. Pozostałe sesje zostały wylogowane.
flash-token-revoked = Token został unieważniony.

## Kolumny i pola
col-name = Nazwa
col-account = Klient
col-opportunity = Szansa sprzedaży
col-owner = Właściciel
col-stage = Etap
col-status = Status
col-amount = Kwota
col-close-date = Data zamknięcia
col-region = Region
col-country = Kraj
col-industry = Branża
col-employees = Liczba pracowników
col-role = Rola
col-team = Zespół
col-manager = Przełożony
col-probability = Prawdopodobieństwo
col-pipeline = Lejek
col-forecast-category = Kategoria prognozy
field-email = E-mail
field-password = Hasło
field-current-password = Obecne hasło
field-new-password = Nowe hasło
field-initial-password = Hasło początkowe
field-time-zone = Strefa czasowa
field-language = Język
field-currency = Waluta
field-code = Kod
field-postal-code = Kod pocztowy
field-created = Utworzono
field-updated = Zaktualizowano
stage-kind-open = Otwarta
stage-kind-won = Wygrana
stage-kind-lost = Przegrana
forecast-pipeline = Lejek
forecast-best-case = Najlepszy scenariusz
forecast-commit = Pewne
forecast-closed = Zamknięte
forecast-omitted = Pominięte

## Strona główna
home-greeting = Miło Cię widzieć, { $name }
home-open-opportunities = Otwarte szanse sprzedaży
home-open-pipeline = Otwarty lejek
home-closing-this-month = Zamykane w tym miesiącu
home-accounts = Klienci
home-next-closing = Najbliższe zamknięcia
scope-own = Twoje własne rekordy
scope-team = Ty i Twój zespół
scope-all = Cała firma
in-reporting-currency = W walucie raportowania
no-fx-rate = brak kursu wymiany

## Administracja
user-new = Nowy użytkownik
audit-history = Historia
regions = Regiony
teams = Zespoły
region-add = Dodaj region
team-add = Dodaj zespół
reporting-currency = Waluta raportowania
fx-rates = Kursy walut
fx-from = Z
fx-to = Na
fx-valid-from = Obowiązuje od
fx-rate = Kurs
fx-latest-note = Wyświetlanych jest 60 najnowszych kursów; kurs obowiązuje od swojej daty do następnego. Wszystkie kursy są dostępne w API.
audit-intro = Każda zmiana: kto jej dokonał, kiedy i skąd. Dziennika nie można edytować.
audit-when = Kiedy
audit-who = Kto
audit-action = Operacja
audit-entity = Rekord
audit-entity-id = ID rekordu
audit-actor-id = ID użytkownika
audit-from = Skąd
audit-before = Przed
audit-after = Po
audit-system = system
audit-token = Token API

## Ustawienia
preferences = Preferencje
change-password = Zmień hasło
api-tokens = Tokeny API
token-scope = Uprawnienia
scope-read = Tylko odczyt
scope-write = Odczyt i zapis
token-days = Ważny przez (dni)
token-create = Utwórz token
token-created = Twój nowy token API
token-shown-once = Skopiuj go teraz: jest wyświetlany tylko raz i przechowywany wyłącznie jako skrót (hash).
token-prefix = Token
token-expires = Wygasa
token-last-used = Ostatnio użyty
token-revoke = Unieważnij
token-revoked = Unieważniony lub wygasły

## API
api-intro = API JSON do wszystkiego, co jest dostępne w interfejsie. Dokument OpenAPI 3.1 w formacie do odczytu maszynowego:
api-method = Metoda
api-path = Ścieżka
api-summary = Opis

## Błędy
error-not-found = Nie znaleziono
error-not-found-detail = Ten rekord nie istnieje lub nie masz do niego dostępu.
error-forbidden = Brak uprawnień
error-forbidden-detail = Twoja rola na to nie pozwala.
error-invalid = Sprawdź wprowadzone dane
error-internal = Coś poszło nie tak
error-internal-detail = Wystąpił błąd wewnętrzny. Został zarejestrowany.
error-bad-credentials = Nieprawidłowy e-mail lub hasło.
error-form-expired = Formularz wygasł. Spróbuj ponownie.
error-rate-limited = Zbyt wiele prób. Spróbuj ponownie za { $seconds } s.

## Słownik audytu
audit-action-create = utworzono
audit-action-update = zmieniono
audit-action-sign-in = zalogowano
audit-action-sign-out = wylogowano
audit-action-change-password = zmieniono hasło
audit-action-revoke = unieważniono
audit-action-set = ustawiono
audit-action-export = wyeksportowano
audit-action-bulk-load = import zbiorczy
audit-entity-user = użytkownik
audit-entity-team = zespół
audit-entity-region = region
audit-entity-session = sesja użytkownika
audit-entity-api-token = token API
audit-entity-fx-rate = kurs walutowy
audit-entity-setting = ustawienie
audit-entity-company = dane firmy
audit-entity-audit-log = dziennik audytu
audit-entity-accounts = klienci
audit-entity-opportunities = szanse sprzedaży

## CRM
nav-leads = Leady
nav-import = Import
nav-sales-process = Proces sprzedaży
activities = Aktywności
add = Dodaj
col-by = Kto
col-company = Firma
col-email = E-mail
col-from = Z
col-to = Do
col-kind = Rodzaj
col-minutes = Minuty
col-subject = Temat
col-when = Kiedy
convert = Konwertuj
convert-lead = Konwertuj na klienta
convert-existing-account = Id istniejącego konta (opcjonalnie)
convert-new-account = puste: nowe konto z nazwy firmy
convert-with-opportunity = Utwórz też szansę sprzedaży
create-anyway = Utwórz mimo to: to nie jest duplikat
days-count = { $count ->
    [one] { $shown } dzień
    [few] { $shown } dni
    [many] { $shown } dni
   *[other] { $shown } dnia
}
exit-criteria = Kryteria wyjścia
exit-criteria-met = Gotowe do opuszczenia etapu (wypełniono: { $fields }).
exit-criteria-missing = Aby przejść dalej, wypełnij: { $fields }.
field-campaign = Kampania
field-engaged-on = Pierwszy kontakt
field-first-name = Imię
field-last-name = Nazwisko
field-lead-source = Źródło leada
field-loss-reason = Powód przegranej
field-loss-reason-when-lost = Powód przegranej (wymagany przy przegranej)
field-next-step = Następny krok
field-phone = Telefon
field-reason = Powód
field-amount = Kwota
field-close-date = Data zamknięcia
in-stage-for = w tym etapie od
lead-converted = Skonwertowano:
lead-history = Cykl życia
lead-lifecycle = Cykl życia
lead-merged-into = Ten lead został scalony z
log-activity = Zapisz
loss-reasons = Powody przegranej
merge-into-this = Scal z tym leadem
minutes = { $n } min
move = Przenieś
move-stage = Przenieś do innego etapu
new-lead = Nowy lead
new-loss-reason = Nowy powód przegranej
possible-duplicates = Możliwe duplikaty
sales-process-intro = Etapy i ich kryteria wyjścia: pola, które szansa musi mieć, zanim przejdzie dalej. Pola:
stage-history = Historia etapów
source-import = import
source-demo = dane demo
source-api = API
source-ui = web
source-conversion = konwersja leada
activity-call = Rozmowa
activity-email = E-mail
activity-meeting = Spotkanie
activity-task = Zadanie
activity-note = Notatka
activity-visit = Wizyta
outcome-connected = połączono
outcome-voicemail = poczta głosowa
outcome-no-answer = brak odpowiedzi
outcome-held = odbyte
outcome-done = wykonane
outcome-not-home = nikogo w domu
outcome-no-interest = brak zainteresowania
outcome-callback = oddzwonić
outcome-sale = sprzedaż
lead-status-new = Nowy
lead-status-working = W toku
lead-status-nurture = Nurturing
lead-status-qualified = Zakwalifikowany
lead-status-disqualified = Zdyskwalifikowany
lead-status-converted = Skonwertowany
lead-action-working = Podejmij / wznów
lead-action-qualified = Zakwalifikuj
lead-action-nurture = Przenieś do nurturingu
lead-action-disqualified = Zdyskwalifikuj (powód)
duplicate-email = ten sam e-mail
duplicate-phone = ten sam telefon
duplicate-domain = ta sama domena
duplicate-company = ta sama firma
duplicate-similar-company = podobna nazwa firmy
audit-action-move = przeniesiono
audit-action-status = zmieniono status
audit-action-convert = skonwertowano
audit-action-merge = scalono
audit-action-import = zaimportowano
audit-entity-opportunity = szansa sprzedaży
audit-entity-lead = lead
audit-entity-contact = kontakt
audit-entity-account = konto
audit-entity-activity = aktywność
audit-entity-loss-reason = powód przegranej
audit-entity-stage = etap
import-intro = Przenieś dane z Salesforce, HubSpot, salesops lub dowolnego CSV (z plikiem mapowania). Najpierw sprawdź: nic nie zostanie zapisane, dopóki cały plik nie jest poprawny, a ponowny import tego samego pliku niczego nie zmienia.
import-what = Co zawiera plik
import-format = Format
import-file = Plik CSV
import-mapping = Plik mapowania (opcjonalnie, TOML)
import-create-missing = Utwórz konta, do których plik się odwołuje, a które jeszcze nie istnieją
import-check = Sprawdź (próba)
import-apply = Importuj
import-no-file = Najpierw wybierz plik CSV.
import-line = Linia
import-row = Wiersz
import-column = Kolumna
import-value = Wartość
import-ignored-columns = Kolumny, które nie są importowane:
import-ready = Plik jest poprawny. Naciśnij Importuj, aby go zapisać.
import-see-records = Zobacz rekordy
import-more-problems = … i jeszcze { $count } problemów.
import-result-checked = Sprawdzono wiersze: { $rows }. Nowe: { $new }, zmienione: { $changed }, bez zmian: { $unchanged }. Nic jeszcze nie zapisano.
import-entity-opportunities = Szanse sprzedaży
import-entity-accounts = Konta
import-entity-contacts = Kontakty
import-entity-leads = Leady
import-entity-activities = Aktywności
import-preset-auto = Rozpoznaj po nagłówku
import-preset-salesforce = Eksport z Salesforce
import-preset-hubspot = Eksport z HubSpot
import-preset-salesops = Eksport z salesops
import-result-problems = Nic nie zapisano: { $problems ->
    [one] jeden problem
    [few] { $problems_shown } problemy
    [many] { $problems_shown } problemów
   *[other] { $problems_shown } problemu
} do poprawienia (przeczytane wiersze: { $rows }).
import-result-applied = Zaimportowano: nowe { $new }, zmienione { $changed }, bez zmian { $unchanged } (przeczytane wiersze: { $rows }).{ $accounts ->
    [0] {""}
    [one] {" "}Utworzono jedno konto.
   *[other] {" "}Utworzone konta: { $accounts }.
}
contacts = Kontakty
field-domain = Domena
exit-score = { $criterion } co najmniej „potwierdzone”
scorecard = Karta kwalifikacji
scorecard-add = Dodaj kryteria (po przecinku)
methodology = Metodyka
methodology-meddic = MEDDIC
methodology-spin = SPIN Selling
methodology-bant = BANT
methodology-custom = Własne kryteria
score-0 = 0 · nieznane
score-1 = 1 · słabe
score-2 = 2 · potwierdzone
score-3 = 3 · mocne
col-note = Notatka
audit-action-score = oceniono
audit-entity-scorecard = karta kwalifikacji

# CSV import and export: re-importable exports of every kind, foreign ids
export-salesops = Eksport do ponownego importu
export-salesops-hint = CSV salesops z odwołaniami przez e-mail i identyfikator zewnętrzny; importuje się bez zmian, tutaj lub w innym salesops
import-export-title = Eksport CSV salesops
import-foreign-ids = Plik jest eksportem z innego salesops (identyfikatory salesops czytaj jako zewnętrzne)

# Lists: search, sort, JSON export (issue 4, lists)
lists-export-json = Eksportuj JSON

## Produkty, cenniki, oferty i zamówienia
nav-products = Produkty
nav-quotes = Oferty
nav-orders = Zamówienia
products = Produkty
products-intro = Co firma sprzedaje, według linii produktów, z ceną w każdym cenniku (walucie). Szanse sprzedaży są wyceniane z cennika w ich walucie.
col-code = Kod
col-product = Produkt
col-product-line = Linia produktów
col-unit = Jednostka
col-unit-price = Cena jednostkowa
col-quantity = Ilość
col-discount = Rabat
col-total = Razem
col-number = Numer
col-sent = Wysłano
col-answered = Odpowiedź
col-valid-until = Ważna do
col-ordered-on = Data zamówienia
col-installation = Instalacja
col-installation-date = Data instalacji
col-failed-visits = Nieudane wizyty
col-step = Krok
col-date = Data
col-currency = Waluta
stop-selling = Wstrzymaj sprzedaż
sell-again = Przywróć sprzedaż
new-product = Nowy produkt
set-price = Ustaw cenę
price-book = Cennik
new-price-book = Nowy cennik
empty-removes = puste usuwa cenę
remove = Usuń
add-product = Dodaj produkt
lines-hint = Zostaw cenę jednostkową pustą, aby wziąć ją z cennika. Kwota szansy sprzedaży staje się sumą produktów.
make-quote = Przygotuj ofertę
make-order = Utwórz zamówienie
order-when-won = Zamówienie powstaje, gdy szansa sprzedaży zostanie wygrana.
order = Zamówienie
quote = Oferta
history = Historia
cancel-reason = Powód anulowania
cancel-order = Anuluj zamówienie
plan-installation = Instalacja
schedule = Zaplanuj
mark-installed = Zainstalowano
mark-failed = Wizyta nieudana
quote-status-draft = szkic
quote-status-sent = wysłana
quote-status-accepted = zaakceptowana
quote-status-rejected = odrzucona
quote-status-withdrawn = wycofana
quote-to-sent = Oznacz jako wysłaną
quote-to-accepted = Zaakceptowana
quote-to-rejected = Odrzucona
quote-to-withdrawn = Wycofaj
order-status-pending = do zaplanowania
order-status-scheduled = zaplanowane
order-status-installed = zainstalowane
order-status-cancelled = anulowane
order-event-created = zamówienie przyjęte
order-event-scheduled = instalacja zaplanowana
order-event-installed = zainstalowano
order-event-installation-failed = nieudana wizyta instalacyjna
order-event-cancelled = anulowano
audit-action-update-lines = zmienił produkty
audit-action-sent = wysłał
audit-action-accepted = zaakceptował
audit-action-rejected = odrzucił
audit-action-withdrawn = wycofał
audit-action-scheduled = zaplanował
audit-action-installed = zainstalował
audit-action-installation-failed = nieudana instalacja
audit-action-cancelled = anulował
audit-entity-product = produkt
audit-entity-price-book = cennik
audit-entity-quote = oferta
audit-entity-order = zamówienie
audit-entity-quotes = oferty
audit-entity-orders = zamówienia
import-jobs-title = Ostatnie importy
import-job-started = Rozpoczęto
import-job-finished = zakończono
import-job-rows = Wiersze
import-job-check = sprawdzenie
import-job-apply = import
import-job-problems = Znaleziono problemy, nic nie zapisano
import-job-applied = Zaimportowano
import-job-checked = Sprawdzono
import-job-running = W toku
import-job-failed = Niepowodzenie
import-job-interrupted = Przerwano
import-job-progress = Odczytano { $read } z około { $total } wierszy
import-job-running-hint = Strona odświeża się co sekundę. Możesz ją opuścić: import trwa dalej, a Ostatnie importy na stronie importu pokażą, jak się zakończył.
import-job-interrupted-hint = Serwer zatrzymał się przed końcem importu. Nic nie zapisano: uruchom go ponownie.

# Compensation (issue 7)
nav-comp = Wynagrodzenie
comp-plans = Plany wynagrodzeń
comp-plan = Plan
comp-version = Wersja
comp-effective = Obowiązuje
comp-acceptance = Akceptacja
comp-accepted-on = Zaakceptowano
comp-not-accepted = Jeszcze nie zaakceptowano
comp-acceptances = Zaakceptowano: { $count }
comp-accept = Akceptuj ten plan
comp-assignments = Przypisania
comp-payee = Odbiorca
comp-payees = Odbiorcy
comp-from = Od
comp-to = Do
comp-new-version = Nowa wersja planu
comp-new-version-hint = Wklej tekst planu (docs/comp-plans.md). Błędy podają wiersz i kolumnę.
comp-statement = Zestawienie prowizji
comp-period = Okres
comp-period-status = Okres
comp-status-open = otwarty
comp-status-calculated = obliczony
comp-status-approved = zatwierdzony
comp-status-locked = zamknięty
comp-calculate = Oblicz
comp-approve = Zatwierdź
comp-lock = Zamknij
comp-kind-calculation = zestawienie
comp-delta-of = korekty za { $period }
comp-credited = zaliczono
comp-attainment = realizacja
comp-component = Składnik
comp-explanation = Wyjaśnienie
comp-payable = Do wypłaty
comp-held = wstrzymane
comp-no-statement = Brak jeszcze zestawienia za ten okres.
comp-what-if = Co jeśli zamknę transakcję?
comp-estimate = Oszacuj
comp-what-if-result = Zarobisz o { $amount } więcej.
audit-entity-comp-plan = plan wynagrodzeń
audit-entity-comp-assignment = przypisanie planu
audit-entity-comp-period = okres wynagrodzeń
audit-entity-comp-run = obliczenie

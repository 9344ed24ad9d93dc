/*  creance-feedsim: a billing system that never existed, for demos and load.

    Generates a deterministic history of debtors, invoices, payments and
    disputes for one tenant and sends it to intake as IntakeBatch messages
    over a DEALER socket (REQ envelope: ["", batch] out, ["", IntakeReply]
    back), several batches in flight, replies matched by batch_id.

    Determinism and replays. Every random draw comes from xoshiro256**
    seeded by splitmix64 from (seed, debtor) for a debtor's identity and from
    (seed, debtor, calendar month) for the invoices of that month. Nothing a
    fact says depends on --end or --months: those only decide which facts are
    emitted (issued, paid, opened or resolved on or before --end). So running
    again the next day, with the default --end of today, resends the same
    facts with the same external ids and content (intake answers DUPLICATE)
    plus the new ones; `make up` can load the demo data every time.
    The one exception is the month a defaulting debtor stops paying, counted
    back from --end's month: a later run may add payments to earlier invoices,
    never contradict an earlier fact.

    No floating point anywhere in the generator: amounts use integer
    arithmetic only, so the same arguments give the same bytes on every
    machine and compiler (an FMA or a libm difference cannot creep in). */

#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "creance.pb-c.h"
#include "curve.h"
#include "dates.h"
#include "intakeroute.h"
#include "log.h"
#include "money.h"

/* ------------------------------------------------------------ PRNG */

typedef struct { uint64_t s[4]; } rng_t;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/*  One independent stream per (seed, tag, a, b): each input goes through
    the mixer, so neighbouring debtors or months get unrelated streams. */
static void rng_seed(rng_t *r, uint64_t seed, uint64_t tag, uint64_t a, uint64_t b)
{
    uint64_t x = seed;
    x = splitmix64(&x) ^ tag;
    x = splitmix64(&x) ^ a;
    x = splitmix64(&x) ^ b;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/*  Uniform in [0, n) by multiply-shift; the bias (n / 2^64) is irrelevant here. */
static uint32_t rng_below(rng_t *r, uint32_t n)
{
    return (uint32_t) (((unsigned __int128) rng_next(r) * n) >> 64);
}

static int32_t rng_range(rng_t *r, int32_t lo, int32_t hi)     /* inclusive */
{
    return lo + (int32_t) rng_below(r, (uint32_t) (hi - lo + 1));
}

static bool rng_chance(rng_t *r, uint32_t permille)
{
    return rng_below(r, 1000) < permille;
}

/*  Standard normal in Q12 fixed point (4096 = 1.0), Irwin-Hall of twelve
    uniforms: bounded at +-6 sigma, which suits amounts that must stay sane. */
static int32_t rng_normal_q12(rng_t *r)
{
    int32_t sum = 0;
    for (int i = 0; i < 12; i++)
        sum += (int32_t) rng_below(r, 4096);
    return sum - 24570;
}

/*  2^(k/16) in Q16, k = 0..15. */
static const int64_t pow2_q16[16] = {
    65536, 68438, 71468, 74632, 77936, 81386, 84990, 88752,
    92682, 96785, 101070, 105545, 110218, 115098, 120194, 125515
};

/*  base * 2^(e16/16), integer only. */
static int64_t scale_octaves(int64_t base, int32_t e16)
{
    int32_t oct = e16 >= 0 ? e16 / 16 : -((-e16 + 15) / 16);
    int32_t frac = e16 - oct * 16;
    int64_t v = (base * pow2_q16[frac]) >> 16;
    if (oct > 20)
        oct = 20;
    if (oct < -40)
        return 0;
    return oct >= 0 ? v << oct : v >> -oct;
}

/*  Lognormal-ish: median `median`, sigma in sixteenths of an octave. */
static int64_t rng_lognormal(rng_t *r, int64_t median, int32_t sigma16)
{
    int32_t e16 = (int32_t) ((int64_t) rng_normal_q12(r) * sigma16 / 4096);
    return scale_octaves(median, e16);
}

/* ------------------------------------------------------------ reference data */

typedef struct { const char *name, *postal; } city_t;

typedef enum { NAME_ACTIVITY_FAMILY, NAME_FAMILY_ACTIVITY } name_style_t;
typedef enum { ADDR_NUM_STREET, ADDR_STREET_NUM, ADDR_STREET_COMMA_NUM } addr_style_t;

typedef struct {
    const char *code, *language, *time_zone, *currency;
    uint32_t share;                     /* permille of debtors */
    const char *accounts_mailbox;       /* local part of a business's e-mail */
    name_style_t name_style;
    addr_style_t addr_style;
    const char *const *families; size_t n_families;
    const char *const *firsts; size_t n_firsts;
    const char *const *activities; size_t n_activities;
    const char *const *forms; size_t n_forms;
    const char *const *streets; size_t n_streets;
    const city_t *cities; size_t n_cities;
} country_t;

#define N(a) (sizeof (a) / sizeof (a)[0])
#define LIST(a) a, N (a)

static const char *const fr_families[] = {
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
    "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David",
    "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier",
    "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Gauthier", "Chevalier"
};
static const char *const fr_firsts[] = {
    "Camille", "Julien", "Sophie", "Nicolas", "Marie", "Thomas", "Léa", "Hugo",
    "Chloé", "Antoine", "Manon", "Lucas", "Émilie", "Pierre", "Claire", "Mathieu",
    "Inès", "Louis", "Sarah", "Maxime"
};
static const char *const fr_activities[] = {
    "Boulangerie", "Transports", "Garage", "Menuiserie", "Cabinet", "Imprimerie",
    "Plomberie", "Bureautique", "Hôtel", "Restaurant", "Librairie", "Maçonnerie",
    "Électricité", "Fromagerie", "Informatique", "Agence", "Atelier", "Charpente",
    "Pharmacie", "Distribution"
};
static const char *const fr_forms[] = { "SARL", "SAS", "SA", "EURL", "SASU", "SARL", "SAS" };
static const char *const fr_streets[] = {
    "rue de la République", "avenue Jean Jaurès", "boulevard Victor Hugo", "rue Pasteur",
    "place de la Mairie", "chemin des Vignes", "rue du Général Leclerc", "allée des Tilleuls",
    "rue Nationale", "avenue de la Gare"
};
static const city_t fr_cities[] = {
    { "Paris", "75011" }, { "Lyon", "69003" }, { "Marseille", "13006" }, { "Toulouse", "31000" },
    { "Nantes", "44000" }, { "Bordeaux", "33000" }, { "Lille", "59000" }, { "Strasbourg", "67000" },
    { "Rennes", "35000" }, { "Montpellier", "34000" }, { "Grenoble", "38000" }, { "Dijon", "21000" },
    { "Angers", "49000" }, { "Tours", "37000" }, { "Reims", "51100" }, { "Nancy", "54000" }
};

static const char *const be_families[] = {
    "Janssens", "Peeters", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
    "Wouters", "Dubois", "Lambert", "Dupont", "Lejeune", "Renard"
};
static const char *const be_firsts[] = {
    "Lucas", "Emma", "Arthur", "Louise", "Noah", "Olivia", "Jules", "Alice", "Victor", "Juliette"
};
static const char *const be_activities[] = {
    "Brasserie", "Transports", "Chocolaterie", "Imprimerie", "Menuiserie", "Informatique",
    "Bureau d'études", "Garage"
};
static const char *const be_forms[] = { "SRL", "SA", "SRL", "SC" };
static const char *const be_streets[] = {
    "rue Royale", "chaussée de Louvain", "avenue Louise", "rue Neuve", "rue des Carmes", "boulevard d'Avroy"
};
static const city_t be_cities[] = {
    { "Bruxelles", "1000" }, { "Liège", "4000" }, { "Namur", "5000" }, { "Charleroi", "6000" },
    { "Mons", "7000" }, { "Wavre", "1300" }
};

static const char *const de_families[] = {
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Schulz", "Hoffmann", "Koch", "Richter"
};
static const char *const de_firsts[] = {
    "Lukas", "Anna", "Felix", "Lena", "Jonas", "Marie", "Paul", "Laura", "Max", "Julia"
};
static const char *const de_activities[] = {
    "Logistik", "Bau", "Elektrotechnik", "Druckerei", "Maschinenbau", "Software", "Handel", "Metallbau"
};
static const char *const de_forms[] = { "GmbH", "GmbH", "AG", "KG", "GmbH & Co. KG" };
static const char *const de_streets[] = {
    "Hauptstraße", "Bahnhofstraße", "Gartenstraße", "Schulstraße", "Industriestraße", "Lindenweg"
};
static const city_t de_cities[] = {
    { "Berlin", "10115" }, { "München", "80331" }, { "Hamburg", "20095" }, { "Köln", "50667" },
    { "Frankfurt am Main", "60311" }, { "Stuttgart", "70173" }
};

static const char *const gb_families[] = {
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
    "Evans", "Thomas", "Roberts", "Walker"
};
static const char *const gb_firsts[] = {
    "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Emily", "Charlie", "Sophie"
};
static const char *const gb_activities[] = {
    "Logistics", "Builders", "Engineering", "Printing", "Consulting", "Trading", "Software", "Joinery"
};
static const char *const gb_forms[] = { "Ltd", "Ltd", "Ltd", "PLC", "LLP" };
static const char *const gb_streets[] = {
    "High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane", "King Street"
};
static const city_t gb_cities[] = {
    { "London", "EC1A 1BB" }, { "Manchester", "M1 1AE" }, { "Birmingham", "B1 1AA" },
    { "Leeds", "LS1 1UR" }, { "Bristol", "BS1 4DJ" }, { "Glasgow", "G1 1XQ" }
};

static const char *const es_families[] = {
    "García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez",
    "Gómez", "Martín", "Ruiz", "Díaz"
};
static const char *const es_firsts[] = {
    "Hugo", "Lucía", "Martín", "Sofía", "Pablo", "Martina", "Daniel", "Julia", "Alejandro", "Paula"
};
static const char *const es_activities[] = {
    "Construcciones", "Transportes", "Distribuciones", "Consultoría", "Imprenta", "Talleres",
    "Suministros", "Reformas"
};
static const char *const es_forms[] = { "S.L.", "S.L.", "S.A.", "S.L.U." };
static const char *const es_streets[] = {
    "Calle Mayor", "Avenida de la Constitución", "Calle Real", "Paseo de Gracia", "Calle Alcalá", "Gran Vía"
};
static const city_t es_cities[] = {
    { "Madrid", "28001" }, { "Barcelona", "08001" }, { "Valencia", "46001" }, { "Sevilla", "41001" },
    { "Bilbao", "48001" }, { "Zaragoza", "50001" }
};

/*  Shares add up to 1000: mostly France, some neighbours. */
static const country_t countries[] = {
    { "FR", "fr", "Europe/Paris", "EUR", 800,
      "comptabilite",
      NAME_ACTIVITY_FAMILY, ADDR_NUM_STREET,
      LIST (fr_families), LIST (fr_firsts), LIST (fr_activities), LIST (fr_forms),
      LIST (fr_streets), LIST (fr_cities) },
    { "BE", "fr", "Europe/Brussels", "EUR", 60,
      "comptabilite",
      NAME_ACTIVITY_FAMILY, ADDR_STREET_NUM,
      LIST (be_families), LIST (be_firsts), LIST (be_activities), LIST (be_forms),
      LIST (be_streets), LIST (be_cities) },
    { "DE", "en", "Europe/Berlin", "EUR", 50,
      "accounts",
      NAME_FAMILY_ACTIVITY, ADDR_STREET_NUM,
      LIST (de_families), LIST (de_firsts), LIST (de_activities), LIST (de_forms),
      LIST (de_streets), LIST (de_cities) },
    { "GB", "en", "Europe/London", "GBP", 50,
      "accounts",
      NAME_FAMILY_ACTIVITY, ADDR_NUM_STREET,
      LIST (gb_families), LIST (gb_firsts), LIST (gb_activities), LIST (gb_forms),
      LIST (gb_streets), LIST (gb_cities) },
    { "ES", "en", "Europe/Madrid", "EUR", 40,
      "accounts",
      NAME_ACTIVITY_FAMILY, ADDR_STREET_COMMA_NUM,
      LIST (es_families), LIST (es_firsts), LIST (es_activities), LIST (es_forms),
      LIST (es_streets), LIST (es_cities) },
};

/*  Payment behaviours with their shares (permille, adding up to 1000). */
typedef enum { B_PROMPT, B_LATE, B_CHRONIC, B_DISPUTING, B_DEFAULTING, B_COUNT } behaviour_t;
static const struct { const char *name; uint32_t share; } behaviours[B_COUNT] = {
    [B_PROMPT]     = { "prompt", 450 },
    [B_LATE]       = { "late", 250 },
    [B_CHRONIC]    = { "chronic_late", 120 },
    [B_DISPUTING]  = { "disputing", 80 },
    [B_DEFAULTING] = { "defaulting", 100 },
};

static const char *const business_methods[] = { "transfer", "transfer", "transfer", "transfer",
                                                 "transfer", "transfer", "transfer",
                                                 "direct_debit", "direct_debit", "cheque" };
static const char *const consumer_methods[] = { "card", "card", "card", "card", "card",
                                                "direct_debit", "direct_debit", "direct_debit",
                                                "transfer", "transfer" };

static const char *const dispute_reasons_fr[] = {
    "quantité livrée incorrecte", "prix non conforme au devis", "prestation non réalisée",
    "marchandise endommagée", "facture en double"
};
static const char *const dispute_reasons_en[] = {
    "wrong quantity delivered", "price differs from the quote", "service not performed",
    "goods damaged", "duplicate invoice"
};
static const char *const outcomes[] = { "rejected", "settled" };

/* ------------------------------------------------------------ model */

typedef struct {
    char ext[40];
    char legal_name[128];
    char company_id[12];
    char email[160];
    char phone[32];
    char line1[96];
    const country_t *country;
    bool business;
    behaviour_t behaviour;
    int32_t terms;                  /* payment terms, days */
    uint32_t activity;              /* up to this many invoices a month */
    int64_t median;                 /* typical invoice, minor units */
    int64_t credit_limit;
    int64_t assets, liabilities;    /* < 0: not known */
    int32_t stop_offset;            /* defaulting: months before --end's month */
    const char *city, *postal;
} debtor_t;

/*  Fact kinds, in the order they are sent on the same day. */
typedef enum { F_INVOICE, F_DISPUTE_OPEN, F_DISPUTE_RESOLVE, F_PAYMENT, F_KINDS } fact_kind_t;
static const char *const fact_kind_names[F_KINDS] = {
    "invoices", "disputes_opened", "disputes_resolved", "payments"
};

#define FACT_NAMED   0x01           /* payment names its invoice */
#define FACT_PARTIAL 0x02           /* payment is one part of the invoice */

/*  Compact: the protobuf message is built only when its batch is sent, so
    a large history costs ~48 bytes per fact. */
typedef struct {
    int32_t date;                   /* issue, received, opened or resolved date */
    int32_t due;                    /* invoice due date */
    int32_t month;                  /* invoice's calendar month: year*12 + month-1 */
    uint32_t debtor;                /* index into the debtor table */
    uint32_t seq;                   /* generation order: the final tie-break */
    int64_t amount;                 /* invoice, payment or disputed amount (0: whole) */
    uint8_t kind;
    uint8_t k;                      /* invoice number within its month, from 1 */
    uint8_t part;                   /* payment part, from 1 */
    uint8_t flags;
    uint8_t method;                 /* index into the debtor's method table */
    uint8_t reason;                 /* dispute reason or outcome */
    int16_t terms;
} fact_t;

typedef struct {
    fact_t *v;
    size_t n, cap;
} facts_t;

typedef struct {
    uint64_t debtors, invoices, payments, partial_payments, disputes, resolved;
    uint64_t open_invoices, overdue_invoices;
    int64_t invoiced[2], collected[2], open[2], overdue[2];   /* EUR, GBP */
} stats_t;

typedef struct {
    const char *endpoint, *tenant, *source;
    char **endpoints;               /* endpoint split at its commas: the intakes, */
    size_t nendpoints;              /* in partition order (common/intakeroute.h) */
    uint32_t debtors, months, batch, window, timeout_s;
    uint64_t seed;
    int32_t end;
    bool dry_run, dump, quiet;
} options_t;

static const char *const usage_text =
    "usage: creance-feedsim [options]\n"
    "Generates a deterministic billing history and sends it to creance-intake.\n"
    "\n"
    "  --endpoint URL   intake's ZeroMQ endpoint (default $CREANCE_INTAKE_ENDPOINT\n"
    "                   or tcp://127.0.0.1:5560); partitioned intakes: their\n"
    "                   endpoints in partition order, comma-separated\n"
    "                   (tcp://a,tcp://b for 0/2 and 1/2): each item goes to the\n"
    "                   intake of its debtor, in order\n"
    "  --tenant ID      tenant (default demo)\n"
    "  --source NAME    source system name, part of the idempotency key (default sim)\n"
    "  --debtors N      number of debtors, 1..1000000 (default 200)\n"
    "  --months N       months of history ending with --end's month, 1..120 (default 12)\n"
    "  --seed S         PRNG seed, unsigned 64-bit integer (default 42)\n"
    "  --end DATE       last day of the history, YYYY-MM-DD (default today, or\n"
    "                   $CREANCE_TODAY)\n"
    "  --batch N        items per IntakeBatch, 1..10000 (default 500)\n"
    "  --window N       batches in flight per intake, 1..1000 (default 8)\n"
    "  --timeout S      seconds without a reply before giving up, 1..3600 (default 30)\n"
    "  --dry-run        generate and print counts, send nothing\n"
    "  --dump           print the items, one line each in sending order, send nothing\n"
    "  --quiet          print nothing unless something goes wrong\n"
    "  --help           this text\n"
    "\n"
    "CURVE: with CREANCE_CURVE_DIR set (its server.key is intake's public key),\n"
    "CREANCE_CURVE_CERT names this client's certificate NAME.key (secret half in\n"
    "NAME.key_secret; 'creance admin keys generate').\n"
    "\n"
    "The same arguments give the same facts, byte for byte; replaying them is\n"
    "harmless (intake answers DUPLICATE). Exit status: 0 when every item was\n"
    "accepted or a duplicate, 1 on rejections or errors, 2 on bad arguments.\n";

/* ------------------------------------------------------------ helpers */

static int32_t month_first_day(int32_t month)
{
    return date_to_days(month / 12, month % 12 + 1, 1);
}

static int32_t month_of(int32_t days)
{
    int y, m, d;
    date_from_days(days, &y, &m, &d);
    return y * 12 + (m - 1);
}

static const char *pick(rng_t *r, const char *const *list, size_t n)
{
    return list[rng_below(r, (uint32_t) n)];
}

/*  Lower-case ASCII for e-mail addresses: Latin-1 letters lose their
    accents, spaces become '-', everything else goes. */
static void slug_append(char *out, size_t outlen, const char *text, char space)
{
    static const char *const latin1[64] = {
        "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
        "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss",
        "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
        "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y"
    };
    size_t len = strlen(out);
    for (const unsigned char *p = (const unsigned char *) text; *p && len + 3 < outlen; p++) {
        const char *add = NULL;
        char one[2] = { 0, 0 };
        if (*p == 0xC3 && p[1] >= 0x80 && p[1] <= 0xBF) {
            add = latin1[p[1] - 0x80];
            p++;
        }
        else if (*p == 0xC5 && (p[1] == 0x92 || p[1] == 0x93)) {     /* Œ œ */
            add = "oe";
            p++;
        }
        else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) {
            one[0] = (char) *p;
            add = one;
        }
        else if (*p >= 'A' && *p <= 'Z') {
            one[0] = (char) (*p - 'A' + 'a');
            add = one;
        }
        else if (*p == ' ' && space && len > 0 && out[len - 1] != space) {
            one[0] = space;
            add = one;
        }
        else if (*p >= 0x80) {      /* other multi-byte sequences: skip them */
            while ((p[1] & 0xC0) == 0x80)
                p++;
        }
        if (add)
            for (; *add && len + 1 < outlen; add++)
                out[len++] = *add;
    }
    out[len] = 0;
}

/*  A plausible number in the country's format (fictitious: the UK mobile
    ones are in Ofcom's range reserved for drama). */
static void make_phone(char *out, size_t len, const country_t *k, bool business, const int p[5])
{
    int lead = p[0];                                   /* 1..5 */
    const char *c = k->code;
    if (!strcmp(c, "FR"))
        snprintf(out, len, "+33 %d %02d %02d %02d %02d", business ? lead : 6 + lead % 2,
                 p[1], p[2], p[3], p[4]);
    else if (!strcmp(c, "BE") && business)
        snprintf(out, len, "+32 %d %03d %02d %02d", lead, p[1] * 10 + p[2] % 10, p[3], p[4]);
    else if (!strcmp(c, "BE"))
        snprintf(out, len, "+32 4%d%d %02d %02d %02d", 7 + lead % 3, p[1] % 10, p[2], p[3], p[4]);
    else if (!strcmp(c, "DE") && business)
        snprintf(out, len, "+49 %d0 %02d%02d%02d%02d", lead + 1, p[1], p[2], p[3], p[4]);
    else if (!strcmp(c, "DE"))
        snprintf(out, len, "+49 15%d %02d%02d%02d%02d", lead % 3 + 1, p[1], p[2], p[3], p[4]);
    else if (!strcmp(c, "GB") && business)
        snprintf(out, len, "+44 20 7%d%02d %02d%02d", lead, p[1], p[2], p[3]);
    else if (!strcmp(c, "GB"))
        snprintf(out, len, "+44 7700 900%d%02d", lead, p[1]);
    else
        snprintf(out, len, "+34 %d%d%d %02d %02d %02d", business ? 9 : 6, lead, p[1] % 10,
                 p[2], p[3], p[4]);
}

/*  Nine digits whose last is a Luhn check digit, as a SIREN has. */
static void make_company_id(rng_t *r, char out[12])
{
    int digits[9];
    digits[0] = rng_range(r, 1, 9);
    for (int i = 1; i < 8; i++)
        digits[i] = (int) rng_below(r, 10);
    int sum = 0;
    for (int i = 0; i < 8; i++) {
        /* From the right, the check digit is position 1; positions 2, 4, ... double. */
        int v = digits[i];
        if ((8 - i) % 2 == 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    digits[8] = (10 - sum % 10) % 10;
    for (int i = 0; i < 9; i++)
        out[i] = (char) ('0' + digits[i]);
    out[9] = 0;
}

static int64_t round_to(int64_t v, int64_t unit)
{
    return (v + unit / 2) / unit * unit;
}

/* ------------------------------------------------------------ debtors */

#define TAG_DEBTOR 1
#define TAG_MONTH  2

static void debtor_generate(debtor_t *d, uint64_t seed, uint32_t index)
{
    rng_t r;
    rng_seed(&r, seed, TAG_DEBTOR, index, 0);
    memset(d, 0, sizeof *d);
    snprintf(d->ext, sizeof d->ext, "s%" PRIu64 "-d%06" PRIu32, seed, index + 1);

    /* The order of the draws is part of the format: append, never reorder. */
    d->business = rng_chance(&r, 850);
    uint32_t c = rng_below(&r, 1000), acc = 0;
    d->country = &countries[0];
    for (size_t i = 0; i < N (countries); i++) {
        acc += countries[i].share;
        if (c < acc) {
            d->country = &countries[i];
            break;
        }
    }
    uint32_t b = rng_below(&r, 1000);
    acc = 0;
    d->behaviour = B_PROMPT;
    for (int i = 0; i < B_COUNT; i++) {
        acc += behaviours[i].share;
        if (b < acc) {
            d->behaviour = (behaviour_t) i;
            break;
        }
    }
    uint32_t t = rng_below(&r, 4);
    d->terms = t < 2 ? 30 : t == 2 ? 45 : 60;
    d->stop_offset = rng_range(&r, 1, 8);
    const country_t *k = d->country;
    const char *family = pick(&r, k->families, k->n_families);
    const char *first = pick(&r, k->firsts, k->n_firsts);
    const char *activity = pick(&r, k->activities, k->n_activities);
    const char *form = pick(&r, k->forms, k->n_forms);
    const char *street = pick(&r, k->streets, k->n_streets);
    const city_t *city = &k->cities[rng_below(&r, (uint32_t) k->n_cities)];
    int32_t number = rng_range(&r, 1, 180);
    int p[5];
    p[0] = rng_range(&r, 1, 5);
    for (int i = 1; i < 5; i++)
        p[i] = (int) rng_below(&r, 100);
    char company_id[12];
    make_company_id(&r, company_id);

    if (d->business) {
        d->activity = (uint32_t) rng_range(&r, 1, 4);
        d->median = rng_lognormal(&r, 120000, 20);            /* 1,200 EUR */
        if (k->name_style == NAME_ACTIVITY_FAMILY)
            snprintf(d->legal_name, sizeof d->legal_name, "%s %s %s", activity, family, form);
        else
            snprintf(d->legal_name, sizeof d->legal_name, "%s %s %s", family, activity, form);
        memcpy(d->company_id, company_id, sizeof d->company_id);
        snprintf(d->email, sizeof d->email, "%s@", k->accounts_mailbox);
        slug_append(d->email, sizeof d->email, family, '-');
        strcat(d->email, "-");
        slug_append(d->email, sizeof d->email, activity, '-');
        strncat(d->email, ".example", sizeof d->email - strlen(d->email) - 1);
    }
    else {
        d->activity = (uint32_t) rng_range(&r, 1, 2);
        d->median = rng_lognormal(&r, 15000, 10);             /* 150 EUR */
        snprintf(d->legal_name, sizeof d->legal_name, "%s %s", first, family);
        slug_append(d->email, sizeof d->email, first, '-');
        strcat(d->email, ".");
        slug_append(d->email, sizeof d->email, family, '-');
        strncat(d->email, "@mail.example", sizeof d->email - strlen(d->email) - 1);
    }
    if (d->median < 5000)
        d->median = 5000;
    if (d->median > 2000000)
        d->median = 2000000;

    make_phone(d->phone, sizeof d->phone, k, d->business, p);

    switch (k->addr_style) {
    case ADDR_NUM_STREET:
        snprintf(d->line1, sizeof d->line1, "%d %s", number, street);
        break;
    case ADDR_STREET_NUM:
        snprintf(d->line1, sizeof d->line1, "%s %d", street, number);
        break;
    case ADDR_STREET_COMMA_NUM:
        snprintf(d->line1, sizeof d->line1, "%s, %d", street, number);
        break;
    }
    d->city = city->name;
    d->postal = city->postal;

    /* A credit limit of a few months' billing, in round figures. */
    int64_t monthly = d->median * (int64_t) (d->activity + 1) / 2;
    if (d->business)
        d->credit_limit = round_to(monthly * rng_range(&r, 2, 6), 100000);
    else
        d->credit_limit = round_to(monthly * 2, 10000);
    if (d->credit_limit <= 0)
        d->credit_limit = d->business ? 100000 : 10000;

    d->assets = d->liabilities = -1;
    bool has_financials = rng_chance(&r, 700);
    int32_t asset_factor = rng_range(&r, 20, 200);
    int32_t debt_ratio = rng_range(&r, 40, 130);
    if (d->business && has_financials) {
        d->assets = round_to(d->median * asset_factor, 10000);
        d->liabilities = round_to(d->assets * debt_ratio / 100, 10000);
    }
}

/* ------------------------------------------------------------ facts */

static fact_t *facts_push(facts_t *f)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 4096;
        f->v = realloc(f->v, f->cap * sizeof *f->v);
        if (!f->v) {
            log_error("out of memory facts=%zu", f->n);
            exit(1);
        }
    }
    fact_t *x = &f->v[f->n];
    memset(x, 0, sizeof *x);
    x->seq = (uint32_t) f->n;
    f->n++;
    return x;
}

static int currency_slot(const debtor_t *d)
{
    return strcmp(d->country->currency, "GBP") == 0;
}

/*  A payment of `amount` on `date`, emitted only if on or before `end`.
    Returns the amount emitted. */
static int64_t emit_payment(facts_t *f, const fact_t *inv, int32_t date, int64_t amount,
                            int part, bool named, bool partial, uint8_t method, int32_t end,
                            stats_t *st, const debtor_t *d)
{
    if (date > end || amount <= 0)
        return 0;
    fact_t *p = facts_push(f);
    p->kind = F_PAYMENT;
    p->date = date;
    p->due = inv->due;
    p->month = inv->month;
    p->debtor = inv->debtor;
    p->k = inv->k;
    p->part = (uint8_t) part;
    p->amount = amount;
    p->method = method;
    p->flags = (uint8_t) ((named ? FACT_NAMED : 0) | (partial ? FACT_PARTIAL : 0));
    st[d->behaviour].payments++;
    if (partial)
        st[d->behaviour].partial_payments++;
    st[d->behaviour].collected[currency_slot(d)] += amount;
    return amount;
}

/*  Invoices of one debtor for one calendar month, with what happens to
    them. All draws happen whatever --end says, so a fact's content never
    depends on it: only whether it is emitted does. */
static void month_generate(facts_t *f, const debtor_t *d, uint32_t index, int32_t month,
                           uint64_t seed, int32_t end, int32_t end_month, stats_t *st)
{
    rng_t r;
    rng_seed(&r, seed, TAG_MONTH, index, (uint64_t) (int64_t) month);
    int32_t first = month_first_day(month);
    int32_t dim = month_first_day(month + 1) - first;
    uint32_t n = 1 + rng_below(&r, d->activity);
    int32_t days[4];
    for (uint32_t i = 0; i < n; i++)
        days[i] = (int32_t) rng_below(&r, (uint32_t) dim);
    for (uint32_t i = 1; i < n; i++)            /* insertion sort: numbers follow dates */
        for (uint32_t j = i; j > 0 && days[j - 1] > days[j]; j--) {
            int32_t t = days[j];
            days[j] = days[j - 1];
            days[j - 1] = t;
        }
    bool stopped = d->behaviour == B_DEFAULTING && month >= end_month - d->stop_offset;
    stats_t *s = &st[d->behaviour];
    int cur = currency_slot(d);

    for (uint32_t i = 0; i < n; i++) {
        fact_t inv = { 0 };
        inv.kind = F_INVOICE;
        inv.date = first + days[i];
        inv.terms = (int16_t) d->terms;
        inv.due = inv.date + d->terms;
        inv.month = month;
        inv.debtor = index;
        inv.k = (uint8_t) (i + 1);
        int64_t amount = rng_lognormal(&r, d->median, d->business ? 10 : 6);
        amount += rng_range(&r, 0, 99);                       /* cents look like cents */
        if (amount < 5000)
            amount = 5000;
        if (amount > 5000000)
            amount = 5000000;
        inv.amount = amount;

        /* What the debtor will do, drawn in a fixed order. */
        bool named = rng_chance(&r, 600);
        uint8_t method = (uint8_t) rng_below(&r, 10);
        bool split = rng_chance(&r, 30);                       /* the odd partial payment */
        int32_t split_pct = rng_range(&r, 40, 80);
        int32_t split_gap = rng_range(&r, 5, 20);
        int32_t pay1 = inv.due, pay2 = 0;
        int64_t amt1 = amount, amt2 = 0;
        bool disputed = false, resolved = false, whole = false;
        int32_t opened = 0, resolved_date = 0;
        int64_t disputed_amount = 0;
        uint8_t reason = 0, outcome = 0;
        bool pays = true;

        switch (d->behaviour) {
        case B_PROMPT: {
            int32_t early = rng_chance(&r, 100) ? 0 : rng_range(&r, 0, 20);
            pay1 = inv.due - early;
            break;
        }
        case B_LATE:
            pay1 = inv.due + rng_range(&r, 5, 30);
            break;
        case B_CHRONIC: {
            bool chronic_split = rng_chance(&r, 300);
            int32_t late1 = rng_range(&r, 30, 120);
            int32_t pct = rng_range(&r, 30, 70);
            int32_t gap = rng_range(&r, 20, 60);
            named = rng_chance(&r, 500);
            pay1 = inv.due + late1;
            if (chronic_split) {
                split = false;
                amt1 = amount * pct / 100 / 100 * 100;      /* a round sum on account */
                if (amt1 <= 0 || amt1 >= amount)
                    amt1 = amount / 2;
                amt2 = amount - amt1;
                pay1 = inv.due + late1 / 2;
                pay2 = pay1 + gap;
            }
            break;
        }
        case B_DISPUTING: {
            disputed = rng_chance(&r, 300);
            whole = rng_chance(&r, 500);
            int32_t pct = rng_range(&r, 10, 50);
            opened = inv.date + rng_range(&r, 5, 25);
            resolved = rng_chance(&r, 850);
            resolved_date = opened + rng_range(&r, 10, 60);
            outcome = (uint8_t) (rng_chance(&r, 550) ? 0 : 1);
            reason = (uint8_t) rng_below(&r, N (dispute_reasons_fr));
            int32_t after = rng_range(&r, 0, 15);
            int32_t normal = rng_range(&r, -3, 15);
            named = true;
            split = false;
            if (!disputed)
                pay1 = inv.due + normal;
            else if (whole) {
                pays = resolved;
                pay1 = resolved_date + after;
            }
            else {
                disputed_amount = amount * pct / 100;
                if (disputed_amount <= 0)
                    disputed_amount = 1;
                amt1 = amount - disputed_amount;            /* the undisputed part, on time */
                pay1 = inv.due + (normal > 0 ? normal : 0);
                if (resolved) {
                    amt2 = disputed_amount;
                    pay2 = resolved_date + after;
                    if (pay2 < pay1)
                        pay2 = pay1;
                }
            }
            break;
        }
        case B_DEFAULTING:
            pay1 = inv.due + rng_range(&r, -5, 10);
            pays = !stopped;
            break;
        default:
            break;
        }
        if (split && amt2 == 0) {
            amt1 = amount * split_pct / 100;
            amt2 = amount - amt1;
            pay2 = pay1 + split_gap;
        }
        if (pay1 <= inv.date)
            pay1 = inv.date + 1;
        if (pay2 && pay2 < pay1)
            pay2 = pay1;

        if (inv.date > end)
            continue;
        fact_t *x = facts_push(f);
        uint32_t seq = x->seq;
        *x = inv;
        x->seq = seq;
        s->invoices++;
        s->invoiced[cur] += amount;

        if (disputed && opened <= end) {
            fact_t *o = facts_push(f);
            seq = o->seq;
            *o = inv;
            o->seq = seq;
            o->kind = F_DISPUTE_OPEN;
            o->date = opened;
            o->amount = whole ? 0 : disputed_amount;
            o->reason = reason;
            s->disputes++;
            if (resolved && resolved_date <= end) {
                fact_t *c = facts_push(f);
                seq = c->seq;
                *c = inv;
                c->seq = seq;
                c->kind = F_DISPUTE_RESOLVE;
                c->date = resolved_date;
                c->reason = outcome;
                s->resolved++;
            }
        }
        int64_t paid = 0;
        if (pays) {
            bool partial = amt1 < amount;
            paid += emit_payment(f, &inv, pay1, amt1, 1, named || partial, partial, method, end, st, d);
            if (amt2 > 0 && pay2)
                paid += emit_payment(f, &inv, pay2, amt2, 2, true, true, method, end, st, d);
        }
        if (paid < amount) {
            s->open_invoices++;
            s->open[cur] += amount - paid;
            if (inv.due < end) {
                s->overdue_invoices++;
                s->overdue[cur] += amount - paid;
            }
        }
    }
}

static int fact_compare(const void *a, const void *b)
{
    const fact_t *x = a, *y = b;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ------------------------------------------------------------ external ids */

static void invoice_ext_id(const options_t *o, const fact_t *x, char *out, size_t len)
{
    snprintf(out, len, "s%" PRIu64 "-i%06" PRIu32 "-%04d%02d-%u", o->seed, x->debtor + 1,
             x->month / 12, x->month % 12 + 1, x->k);
}

static void fact_ext_id(const options_t *o, const fact_t *x, char *out, size_t len)
{
    char code = x->kind == F_PAYMENT ? 'p' : x->kind == F_INVOICE ? 'i' : 'x';
    int n = snprintf(out, len, "s%" PRIu64 "-%c%06" PRIu32 "-%04d%02d-%u", o->seed, code,
                     x->debtor + 1, x->month / 12, x->month % 12 + 1, x->k);
    if (x->kind == F_PAYMENT && n > 0 && (size_t) n < len)
        snprintf(out + n, len - (size_t) n, "-%u", x->part);
}

/* ------------------------------------------------------------ protobuf items */

/*  Everything one IntakeItem points to, so a batch is built without
    allocating per item and encoded in one go. */
typedef struct {
    Creance__IntakeItem item;
    Creance__DebtorFact debtor;
    Creance__InvoiceFact invoice;
    Creance__PaymentFact payment;
    Creance__DisputeFact dispute;
    Creance__PostalAddress address;
    Creance__Money money[3];
    Creance__Date date[2];
    char ext[64], ref[64], ref2[64], number[40];
    char *refs[1];
} item_buf_t;

static void money_set(Creance__Money *m, int64_t minor, const char *currency)
{
    creance__money__init(m);
    m->minor = minor;
    m->currency = (char *) currency;
}

static Creance__Date *date_set(Creance__Date *d, int32_t days)
{
    creance__date__init(d);
    date_to_pb(days, d);
    return d;
}

static void build_debtor_item(item_buf_t *b, const debtor_t *d)
{
    const char *cur = d->country->currency;
    creance__intake_item__init(&b->item);
    creance__debtor_fact__init(&b->debtor);
    creance__postal_address__init(&b->address);
    Creance__DebtorFact *x = &b->debtor;
    x->external_id = (char *) d->ext;
    x->legal_name = (char *) d->legal_name;
    x->company_id = (char *) d->company_id;
    x->kind = d->business ? CREANCE__DEBTOR_KIND__BUSINESS : CREANCE__DEBTOR_KIND__CONSUMER;
    x->country = (char *) d->country->code;
    x->language = (char *) d->country->language;
    x->time_zone = (char *) d->country->time_zone;
    x->email = (char *) d->email;
    x->phone = (char *) d->phone;
    b->address.line1 = (char *) d->line1;
    b->address.postal_code = (char *) d->postal;
    b->address.city = (char *) d->city;
    b->address.country = (char *) d->country->code;
    x->address = &b->address;
    money_set(&b->money[0], d->credit_limit, cur);
    x->credit_limit = &b->money[0];
    x->payment_terms_days = d->terms;
    if (d->assets >= 0) {
        money_set(&b->money[1], d->assets, cur);
        money_set(&b->money[2], d->liabilities, cur);
        x->current_assets = &b->money[1];
        x->current_liabilities = &b->money[2];
    }
    b->item.fact_case = CREANCE__INTAKE_ITEM__FACT_DEBTOR;
    b->item.debtor = x;
}

static void build_fact_item(item_buf_t *b, const options_t *o, const fact_t *f,
                            const debtor_t *d)
{
    const char *cur = d->country->currency;
    creance__intake_item__init(&b->item);
    fact_ext_id(o, f, b->ext, sizeof b->ext);
    switch ((fact_kind_t) f->kind) {
    case F_INVOICE: {
        Creance__InvoiceFact *x = &b->invoice;
        creance__invoice_fact__init(x);
        x->external_id = b->ext;
        x->debtor_external_id = (char *) d->ext;
        snprintf(b->number, sizeof b->number, "FA%04d%02d-%06" PRIu32 "-%u",
                 f->month / 12, f->month % 12 + 1, f->debtor + 1, f->k);
        x->number = b->number;
        x->issue_date = date_set(&b->date[0], f->date);
        x->due_date = date_set(&b->date[1], f->due);
        money_set(&b->money[0], f->amount, cur);
        x->amount = &b->money[0];
        x->terms_days = f->terms;
        b->item.fact_case = CREANCE__INTAKE_ITEM__FACT_INVOICE;
        b->item.invoice = x;
        break;
    }
    case F_PAYMENT: {
        Creance__PaymentFact *x = &b->payment;
        creance__payment_fact__init(x);
        x->external_id = b->ext;
        x->debtor_external_id = (char *) d->ext;
        x->received_date = date_set(&b->date[0], f->date);
        money_set(&b->money[0], f->amount, cur);
        x->amount = &b->money[0];
        x->method = (char *) (d->business ? business_methods : consumer_methods)[f->method % 10];
        if (f->flags & FACT_NAMED) {
            invoice_ext_id(o, f, b->ref, sizeof b->ref);
            b->refs[0] = b->ref;
            x->n_invoice_external_ids = 1;
            x->invoice_external_ids = b->refs;
        }
        b->item.fact_case = CREANCE__INTAKE_ITEM__FACT_PAYMENT;
        b->item.payment = x;
        break;
    }
    case F_DISPUTE_OPEN:
    case F_DISPUTE_RESOLVE: {
        Creance__DisputeFact *x = &b->dispute;
        creance__dispute_fact__init(x);
        x->external_id = b->ext;
        invoice_ext_id(o, f, b->ref, sizeof b->ref);
        x->invoice_external_id = b->ref;
        if (f->kind == F_DISPUTE_OPEN) {
            if (f->amount > 0) {
                money_set(&b->money[0], f->amount, cur);
                x->amount = &b->money[0];
            }
            bool fr = strcmp(d->country->language, "fr") == 0;
            x->reason = (char *) (fr ? dispute_reasons_fr : dispute_reasons_en)[f->reason % 5];
            x->opened_date = date_set(&b->date[0], f->date);
        }
        else {
            x->resolve = true;
            x->outcome = (char *) outcomes[f->reason % 2];
            x->resolved_date = date_set(&b->date[1], f->date);
        }
        b->item.fact_case = CREANCE__INTAKE_ITEM__FACT_DISPUTE;
        b->item.dispute = x;
        break;
    }
    default:
        break;
    }
}

/* ------------------------------------------------------------ the history */

typedef struct {
    options_t opt;
    debtor_t *debtors;
    facts_t facts;
    stats_t stats[B_COUNT];
    uint64_t kind_counts[F_KINDS];
    item_buf_t *bufs;               /* --batch of them */
    Creance__IntakeItem **items;
    uint32_t *debtor_part;          /* each debtor's intake (several intakes only) */
} sim_t;

static void sim_generate(sim_t *s)
{
    const options_t *o = &s->opt;
    int32_t end_month = month_of(o->end);
    int32_t start_month = end_month - (int32_t) o->months + 1;
    s->debtors = calloc(o->debtors, sizeof *s->debtors);
    if (!s->debtors) {
        log_error("out of memory debtors=%" PRIu32, o->debtors);
        exit(1);
    }
    for (uint32_t i = 0; i < o->debtors; i++) {
        debtor_t *d = &s->debtors[i];
        debtor_generate(d, o->seed, i);
        s->stats[d->behaviour].debtors++;
        for (int32_t m = start_month; m <= end_month; m++)
            month_generate(&s->facts, d, i, m, o->seed, o->end, end_month, s->stats);
    }
    qsort(s->facts.v, s->facts.n, sizeof *s->facts.v, fact_compare);
    for (size_t i = 0; i < s->facts.n; i++)
        s->kind_counts[s->facts.v[i].kind]++;
}

/*  Item `i` of the whole sequence: debtors first, then the facts. */
static Creance__IntakeItem *sim_item(sim_t *s, size_t i, item_buf_t *b)
{
    if (i < s->opt.debtors)
        build_debtor_item(b, &s->debtors[i]);
    else {
        const fact_t *f = &s->facts.v[i - s->opt.debtors];
        build_fact_item(b, &s->opt, f, &s->debtors[f->debtor]);
    }
    return &b->item;
}

static void sim_describe(sim_t *s, size_t i, char *out, size_t len)
{
    if (i < s->opt.debtors)
        snprintf(out, len, "debtor %s", s->debtors[i].ext);
    else {
        const fact_t *f = &s->facts.v[i - s->opt.debtors];
        char ext[64];
        fact_ext_id(&s->opt, f, ext, sizeof ext);
        static const char *const kinds[F_KINDS] = { "invoice", "dispute", "dispute resolution",
                                                    "payment" };
        snprintf(out, len, "%s %s", kinds[f->kind], ext);
    }
}

static size_t sim_total(const sim_t *s)
{
    return s->opt.debtors + s->facts.n;
}

/* ------------------------------------------------------------ dry run */

static void print_amounts(const char *label, const int64_t v[2])
{
    char eur[32], gbp[32];
    money_format(v[0], "EUR", eur, sizeof eur);
    money_format(v[1], "GBP", gbp, sizeof gbp);
    printf("  %-10s EUR %14s   GBP %12s\n", label, eur, gbp);
}

static int dry_run(sim_t *s)
{
    const options_t *o = &s->opt;
    char from[11], to[11];
    date_format(month_first_day(month_of(o->end) - (int32_t) o->months + 1), from);
    date_format(o->end, to);
    printf("feedsim dry run: tenant=%s source=%s seed=%" PRIu64 " debtors=%" PRIu32
           " months=%" PRIu32 " from=%s end=%s\n", o->tenant, o->source, o->seed, o->debtors,
           o->months, from, to);
    printf("  items: debtors=%" PRIu32, o->debtors);
    for (int k = 0; k < F_KINDS; k++)
        printf(" %s=%" PRIu64, fact_kind_names[k], s->kind_counts[k]);
    size_t total = sim_total(s);
    printf(" total=%zu batches=%zu\n", total,
           (o->debtors + o->batch - 1) / o->batch + (s->facts.n + o->batch - 1) / o->batch);
    printf("  %-13s %7s %8s %8s %8s %8s %8s %6s %8s\n", "behaviour", "debtors", "invoices",
           "payments", "partial", "disputes", "resolved", "open", "overdue");
    stats_t all = { 0 };
    for (int b = 0; b < B_COUNT; b++) {
        const stats_t *x = &s->stats[b];
        printf("  %-13s %7" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
               " %8" PRIu64 " %6" PRIu64 " %8" PRIu64 "\n", behaviours[b].name, x->debtors,
               x->invoices, x->payments, x->partial_payments, x->disputes, x->resolved,
               x->open_invoices, x->overdue_invoices);
        all.debtors += x->debtors;
        all.invoices += x->invoices;
        for (int c = 0; c < 2; c++) {
            all.invoiced[c] += x->invoiced[c];
            all.collected[c] += x->collected[c];
            all.open[c] += x->open[c];
            all.overdue[c] += x->overdue[c];
        }
    }
    uint64_t business = 0, by_country[N (countries)] = { 0 };
    for (uint32_t i = 0; i < o->debtors; i++) {
        business += s->debtors[i].business;
        by_country[s->debtors[i].country - countries]++;
    }
    printf("  debtors: business=%" PRIu64 " consumer=%" PRIu64, business, o->debtors - business);
    for (size_t c = 0; c < N (countries); c++)
        printf(" %s=%" PRIu64, countries[c].code, by_country[c]);
    printf("\n");
    print_amounts("invoiced", all.invoiced);
    print_amounts("collected", all.collected);
    print_amounts("open", all.open);
    print_amounts("overdue", all.overdue);

    /* A digest of every encoded item: equal digests, equal histories. */
    uint64_t h = 0xcbf29ce484222325ULL;
    uint8_t *buf = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < total; i++) {
        Creance__IntakeItem *it = sim_item(s, i, &s->bufs[0]);
        size_t len = creance__intake_item__get_packed_size(it);
        if (len + 4 > cap) {
            cap = (len + 4) * 2;
            buf = realloc(buf, cap);
        }
        /* Length first, so item boundaries are part of the digest. */
        buf[0] = (uint8_t) len; buf[1] = (uint8_t) (len >> 8);
        buf[2] = (uint8_t) (len >> 16); buf[3] = (uint8_t) (len >> 24);
        creance__intake_item__pack(it, buf + 4);
        for (size_t j = 0; j < len + 4; j++) {
            h ^= buf[j];
            h *= 0x100000001b3ULL;
        }
    }
    free(buf);
    printf("  digest: fnv1a64=%016" PRIx64 "\n", h);
    return 0;
}

/*  --dump: one line per item, as sent, in sending order; for eyes and diffs. */
static void dump_money(FILE *out, const char *name, const Creance__Money *m)
{
    char text[32];
    if (!m)
        return;
    money_format(m->minor, m->currency, text, sizeof text);
    fprintf(out, " %s=%s %s", name, text, m->currency);
}

static void dump_date(FILE *out, const char *name, const Creance__Date *d)
{
    if (d)
        fprintf(out, " %s=%04d-%02d-%02d", name, d->year, d->month, d->day);
}

static int dump(sim_t *s)
{
    FILE *out = stdout;
    size_t total = sim_total(s);
    for (size_t i = 0; i < total; i++) {
        Creance__IntakeItem *it = sim_item(s, i, &s->bufs[0]);
        switch (it->fact_case) {
        case CREANCE__INTAKE_ITEM__FACT_DEBTOR: {
            const Creance__DebtorFact *x = it->debtor;
            fprintf(out, "debtor %s kind=%s country=%s language=%s terms=%d name=\"%s\""
                    " company_id=%s email=%s phone=\"%s\" address=\"%s, %s %s\"", x->external_id,
                    x->kind == CREANCE__DEBTOR_KIND__BUSINESS ? "business" : "consumer",
                    x->country, x->language, x->payment_terms_days, x->legal_name,
                    *x->company_id ? x->company_id : "-", x->email, x->phone,
                    x->address->line1, x->address->postal_code, x->address->city);
            dump_money(out, "credit_limit", x->credit_limit);
            dump_money(out, "assets", x->current_assets);
            dump_money(out, "liabilities", x->current_liabilities);
            fprintf(out, " behaviour=%s\n", behaviours[s->debtors[i].behaviour].name);
            break;
        }
        case CREANCE__INTAKE_ITEM__FACT_INVOICE: {
            const Creance__InvoiceFact *x = it->invoice;
            fprintf(out, "invoice %s debtor=%s number=%s", x->external_id,
                    x->debtor_external_id, x->number);
            dump_date(out, "issue", x->issue_date);
            dump_date(out, "due", x->due_date);
            dump_money(out, "amount", x->amount);
            fprintf(out, "\n");
            break;
        }
        case CREANCE__INTAKE_ITEM__FACT_PAYMENT: {
            const Creance__PaymentFact *x = it->payment;
            fprintf(out, "payment %s debtor=%s", x->external_id, x->debtor_external_id);
            dump_date(out, "received", x->received_date);
            dump_money(out, "amount", x->amount);
            fprintf(out, " method=%s invoices=%s\n", x->method,
                    x->n_invoice_external_ids ? x->invoice_external_ids[0] : "-");
            break;
        }
        case CREANCE__INTAKE_ITEM__FACT_DISPUTE: {
            const Creance__DisputeFact *x = it->dispute;
            if (x->resolve) {
                fprintf(out, "dispute_resolved %s invoice=%s", x->external_id,
                        x->invoice_external_id);
                dump_date(out, "resolved", x->resolved_date);
                fprintf(out, " outcome=%s\n", x->outcome);
            }
            else {
                fprintf(out, "dispute %s invoice=%s", x->external_id, x->invoice_external_id);
                dump_date(out, "opened", x->opened_date);
                if (x->amount)
                    dump_money(out, "amount", x->amount);
                else
                    fprintf(out, " amount=whole");
                fprintf(out, " reason=\"%s\"\n", x->reason);
            }
            break;
        }
        default:
            break;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ sending */

/*  Several intakes (--endpoint tcp://a,tcp://b, partitions 0/N, 1/N ...):
    every item goes to the intake of its debtor, creance_partition(tenant,
    debtor external id, N) through common/intakeroute.h; a dispute, which
    names only its invoice, follows its debtor too, so it never overtakes
    that invoice. Each intake gets its share in the order of the whole
    sequence, over a socket of its own, with its own window and its own
    debtor barrier: a debtor and its facts go to one intake, in order. With
    one endpoint nothing is routed: the sequence goes out as it is. */

typedef struct {
    bool used;
    char batch_id[64];
    size_t first, count;            /* items [first, first+count) of the sequence ... */
    size_t *idx;                    /* ... or these (several intakes; --batch of them) */
} slot_t;

typedef struct {
    uint64_t sent, accepted, duplicate, rejected, batches, errors;
    int shown;
    bool stop;                      /* a whole batch was refused: send no more */
} tally_t;

/*  One intake of the list. */
typedef struct {
    const char *endpoint;
    uint32_t index;                 /* its partition, k of N */
    zsock_t *sock;
    size_t next;                    /* where its scan of the sequence stands */
    size_t inflight;
    slot_t *slots;                  /* --window of them */
    int64_t last_reply;
    uint64_t sent, accepted, duplicate, rejected;
} inst_t;

#define SHOW_REJECTIONS 5

static size_t slot_item(const slot_t *slot, size_t i)
{
    return slot->idx ? slot->idx[i] : slot->first + i;
}

/*  The intake of item `i` (several intakes only). */
static uint32_t sim_instance(const sim_t *s, size_t i)
{
    uint32_t d = i < s->opt.debtors ? (uint32_t) i : s->facts.v[i - s->opt.debtors].debtor;
    return s->debtor_part[d];
}

/*  Each debtor's intake, from its DebtorCreated item: the key intake
    itself checks. Facts follow their debtor. */
static int route_debtors(sim_t *s, uint32_t n)
{
    s->debtor_part = calloc(s->opt.debtors, sizeof *s->debtor_part);
    if (!s->debtor_part)
        return -1;
    for (uint32_t i = 0; i < s->opt.debtors; i++)
        s->debtor_part[i] = intakeroute_instance(s->opt.tenant, sim_item(s, i, &s->bufs[0]), n);
    return 0;
}

/*  Fills `slot` with the next items of intake `in` up to `limit` (at most
    --batch); returns how many. */
static size_t gather(sim_t *s, inst_t *in, size_t ninst, slot_t *slot, size_t limit)
{
    const options_t *o = &s->opt;
    if (ninst == 1) {
        size_t count = limit - in->next < o->batch ? limit - in->next : o->batch;
        slot->first = in->next;
        slot->count = count;
        in->next += count;
        return count;
    }
    size_t count = 0, i = in->next;
    for (; i < limit && count < o->batch; i++)
        if (sim_instance(s, i) == in->index)
            slot->idx[count++] = i;
    in->next = i;
    slot->count = count;
    return count;
}

static int send_batch(sim_t *s, inst_t *in, slot_t *slot, uint64_t number)
{
    const options_t *o = &s->opt;
    for (size_t i = 0; i < slot->count; i++)
        s->items[i] = sim_item(s, slot_item(slot, i), &s->bufs[i]);
    Creance__IntakeBatch batch = CREANCE__INTAKE_BATCH__INIT;
    snprintf(slot->batch_id, sizeof slot->batch_id, "feedsim-s%" PRIu64 "-%06" PRIu64,
             o->seed, number);
    batch.tenant = (char *) o->tenant;
    batch.source = (char *) o->source;
    batch.batch_id = slot->batch_id;
    batch.n_items = slot->count;
    batch.items = s->items;
    size_t len = creance__intake_batch__get_packed_size(&batch);
    zmsg_t *msg = zmsg_new();
    zframe_t *frame = zframe_new(NULL, len);
    creance__intake_batch__pack(&batch, zframe_data(frame));
    zmsg_addmem(msg, NULL, 0);              /* the REQ envelope's empty delimiter */
    zmsg_append(msg, &frame);
    if (zmsg_send(&msg, in->sock) != 0) {
        zmsg_destroy(&msg);
        log_error("send failed endpoint=%s batch=%s error=%s", in->endpoint, slot->batch_id,
                  zmq_strerror(zmq_errno()));
        return -1;
    }
    slot->used = true;
    log_debug("batch sent batch=%s endpoint=%s items=%zu bytes=%zu", slot->batch_id,
              in->endpoint, slot->count, len);
    return 0;
}

static void note_rejection(sim_t *s, tally_t *t, size_t item, const char *field,
                           const char *reason)
{
    t->rejected++;
    if (t->shown >= SHOW_REJECTIONS)
        return;
    t->shown++;
    char what[128];
    sim_describe(s, item, what, sizeof what);
    fprintf(stderr, "rejected: %s field=%s reason=%s\n", what,
            field && *field ? field : "-", reason && *reason ? reason : "-");
}

/*  Handles one reply; returns the slot it freed or NULL. */
static slot_t *take_reply(sim_t *s, zmsg_t *msg, slot_t *slots, size_t nslots, tally_t *t)
{
    zframe_t *payload = zmsg_last(msg);
    if (zmsg_size(msg) != 2 || zframe_size(zmsg_first(msg)) != 0) {
        log_warn("malformed reply frames=%zu: expected [\"\", IntakeReply]", zmsg_size(msg));
        t->errors++;
        return NULL;
    }
    Creance__IntakeReply *r = creance__intake_reply__unpack(NULL, zframe_size(payload),
                                                            zframe_data(payload));
    if (!r) {
        log_warn("undecodable reply bytes=%zu", zframe_size(payload));
        t->errors++;
        return NULL;
    }
    slot_t *slot = NULL;
    for (size_t i = 0; i < nslots; i++)
        if (slots[i].used && strcmp(slots[i].batch_id, r->batch_id) == 0) {
            slot = &slots[i];
            break;
        }
    if (!slot) {
        log_warn("reply for a batch not in flight batch=%s", r->batch_id);
        creance__intake_reply__free_unpacked(r, NULL);
        return NULL;
    }
    if (r->error && *r->error) {
        /* Bad tenant, intake unavailable...: the next batches would fare no
           better, so stop sending and report it once. */
        log_error("batch refused batch=%s items=%zu error=%s", slot->batch_id, slot->count,
                  r->error);
        t->errors++;
        t->rejected += slot->count;
        t->stop = true;
    }
    else {
        bool *seen = calloc(slot->count, sizeof *seen);
        for (size_t i = 0; i < r->n_results; i++) {
            const Creance__ItemResult *x = r->results[i];
            if (x->index < 0 || (size_t) x->index >= slot->count || seen[x->index]) {
                log_warn("reply result out of range batch=%s index=%d", slot->batch_id,
                         x->index);
                continue;
            }
            seen[x->index] = true;
            size_t item = slot_item(slot, (size_t) x->index);
            switch (x->status) {
            case CREANCE__ITEM_STATUS__ACCEPTED:  t->accepted++; break;
            case CREANCE__ITEM_STATUS__DUPLICATE: t->duplicate++; break;
            case CREANCE__ITEM_STATUS__REJECTED:
                note_rejection(s, t, item, x->field, x->reason);
                break;
            default:
                note_rejection(s, t, item, "status", "reply has no status for the item");
                break;
            }
        }
        for (size_t i = 0; i < slot->count; i++)
            if (!seen[i])
                note_rejection(s, t, slot_item(slot, i), "results", "no result for the item");
        free(seen);
    }
    creance__intake_reply__free_unpacked(r, NULL);
    slot->used = false;
    return slot;
}

/*  Sends as many batches as intake `in` may have in flight. */
static int fill_window(sim_t *s, inst_t *in, size_t ninst, tally_t *t, uint64_t *number)
{
    const options_t *o = &s->opt;
    size_t total = sim_total(s);
    while (in->next < total && in->inflight < o->window && !t->stop) {
        /* Debtors travel in batches of their own and must all be recorded
           (by this intake) before any fact names them. */
        if (in->next == o->debtors && in->inflight > 0)
            break;
        size_t limit = in->next < o->debtors ? o->debtors : total;
        slot_t *slot = NULL;
        for (size_t i = 0; i < o->window; i++)
            if (!in->slots[i].used) {
                slot = &in->slots[i];
                break;
            }
        if (gather(s, in, ninst, slot, limit) == 0)
            continue;                       /* none of its items up to limit */
        if (send_batch(s, in, slot, ++*number) != 0)
            return -1;
        if (in->inflight == 0)
            in->last_reply = zclock_mono();     /* the clock runs while we wait */
        in->inflight++;
        in->sent += slot->count;
        t->sent += slot->count;
        t->batches++;
    }
    return 0;
}

static int send_all(sim_t *s)
{
    const options_t *o = &s->opt;
    size_t ninst = o->nendpoints;
    size_t total = sim_total(s);
    inst_t *inst = calloc(ninst, sizeof *inst);
    zmq_pollitem_t *polls = calloc(ninst, sizeof *polls);
    if (!inst || !polls || (ninst > 1 && route_debtors(s, (uint32_t) ninst) != 0)) {
        log_error("out of memory endpoints=%zu", ninst);
        return 1;
    }
    int rc = 0;
    /* CURVE as the services: CREANCE_CURVE_DIR (server.key) and this
       client's CREANCE_CURVE_CERT; nothing set, plain TCP. Every intake's
       connection the same way. */
    if (curve_setup_env() != 0) {
        fprintf(stderr, "creance-feedsim: CURVE: %s\n", curve_error());
        rc = 2;
        goto done;
    }
    for (size_t k = 0; k < ninst; k++) {
        inst_t *in = &inst[k];
        in->endpoint = o->endpoints[k];
        in->index = (uint32_t) k;
        in->slots = calloc(o->window, sizeof *in->slots);
        if (!in->slots) {
            log_error("out of memory window=%" PRIu32, o->window);
            rc = 1;
            goto done;
        }
        for (size_t i = 0; ninst > 1 && i < o->window; i++)
            if (!(in->slots[i].idx = calloc(o->batch, sizeof *in->slots[i].idx))) {
                log_error("out of memory window=%" PRIu32 " batch=%" PRIu32, o->window, o->batch);
                rc = 1;
                goto done;
            }
        in->sock = zsock_new(ZMQ_DEALER);
        if (!in->sock) {
            log_error("cannot create a DEALER socket");
            rc = 1;
            goto done;
        }
        zsock_set_linger(in->sock, 0);
        zsock_set_sndhwm(in->sock, 0);
        zsock_set_rcvhwm(in->sock, 0);
        if (curve_client(in->sock) != 0) {
            fprintf(stderr, "creance-feedsim: CURVE: %s\n", curve_error());
            rc = 2;
            goto done;
        }
        if (zsock_connect(in->sock, "%s", in->endpoint) != 0) {
            fprintf(stderr, "creance-feedsim: --endpoint: cannot connect to '%s': %s\n",
                    in->endpoint, zmq_strerror(zmq_errno()));
            rc = 2;
            goto done;
        }
        polls[k] = (zmq_pollitem_t) { .socket = zsock_resolve(in->sock), .events = ZMQ_POLLIN };
    }

    if (!o->quiet)
        printf("feedsim: sending %zu items (debtors=%" PRIu32 " invoices=%" PRIu64
               " payments=%" PRIu64 " disputes=%" PRIu64 " resolutions=%" PRIu64
               ") to %s tenant=%s source=%s\n", total, o->debtors, s->kind_counts[F_INVOICE],
               s->kind_counts[F_PAYMENT], s->kind_counts[F_DISPUTE_OPEN],
               s->kind_counts[F_DISPUTE_RESOLVE], o->endpoint, o->tenant, o->source);
    fflush(stdout);

    tally_t t = { 0 };
    uint64_t number = 0;
    int64_t started = zclock_mono();

    for (;;) {
        size_t inflight = 0;
        for (size_t k = 0; k < ninst; k++) {
            if (fill_window(s, &inst[k], ninst, &t, &number) != 0) {
                rc = 1;
                goto report;
            }
            inflight += inst[k].inflight;
        }
        if (inflight == 0)
            break;                          /* everything answered, or stopped */
        /* Wake up at least every 200 ms to check the deadline and ^C. */
        int ready = zmq_poll(polls, (int) ninst, 200);
        if (zsys_interrupted) {
            log_error("interrupted sent=%" PRIu64 " in_flight=%zu", t.sent, inflight);
            rc = 1;
            goto report;
        }
        if (ready < 0 && zmq_errno() != EINTR) {
            log_error("poll failed error=%s", zmq_strerror(zmq_errno()));
            rc = 1;
            goto report;
        }
        for (size_t k = 0; k < ninst; k++) {
            inst_t *in = &inst[k];
            if (ready > 0 && (polls[k].revents & ZMQ_POLLIN)) {
                zmsg_t *msg = zmsg_recv(in->sock);
                if (!msg)
                    continue;
                in->last_reply = zclock_mono();
                uint64_t a = t.accepted, d = t.duplicate, r = t.rejected;
                if (take_reply(s, msg, in->slots, o->window, &t))
                    in->inflight--;
                in->accepted += t.accepted - a;
                in->duplicate += t.duplicate - d;
                in->rejected += t.rejected - r;
                zmsg_destroy(&msg);
            }
            else if (in->inflight > 0
                     && zclock_mono() - in->last_reply > (int64_t) o->timeout_s * 1000) {
                log_error("no reply from intake endpoint=%s timeout_s=%" PRIu32
                          " in_flight=%zu: is creance-intake running there?",
                          in->endpoint, o->timeout_s, in->inflight);
                rc = 1;
                goto report;
            }
        }
    }

report:;
    double elapsed = (double) (zclock_mono() - started) / 1000.0;
    if (rc == 0 && (t.rejected > 0 || t.errors > 0))
        rc = 1;
    if (!o->quiet || rc != 0) {
        printf("feedsim: tenant=%s source=%s items=%" PRIu64 " accepted=%" PRIu64
               " duplicate=%" PRIu64 " rejected=%" PRIu64 " batches=%" PRIu64
               " elapsed=%.2fs rate=%.0f items/s\n", o->tenant, o->source, t.sent, t.accepted,
               t.duplicate, t.rejected, t.batches, elapsed,
               elapsed > 0 ? (double) (t.accepted + t.duplicate + t.rejected) / elapsed : 0.0);
        for (size_t k = 0; ninst > 1 && k < ninst; k++)
            printf("feedsim: partition=%zu/%zu endpoint=%s items=%" PRIu64 " accepted=%" PRIu64
                   " duplicate=%" PRIu64 " rejected=%" PRIu64 "\n", k, ninst, inst[k].endpoint,
                   inst[k].sent, inst[k].accepted, inst[k].duplicate, inst[k].rejected);
    }
    if (t.stop)
        fprintf(stderr, "feedsim: stopped after intake refused a whole batch; %zu items not sent\n",
                total - (size_t) t.sent);
    else if (t.rejected > (uint64_t) t.shown)
        fprintf(stderr, "rejected: ... and %" PRIu64 " more\n", t.rejected - (uint64_t) t.shown);
done:
    for (size_t k = 0; k < ninst; k++) {
        for (size_t i = 0; inst[k].slots && i < o->window; i++)
            free(inst[k].slots[i].idx);
        free(inst[k].slots);
        zsock_destroy(&inst[k].sock);
    }
    free(inst);
    free(polls);
    curve_shutdown();
    return rc;
}

/* ------------------------------------------------------------ arguments */

static void bad_argument(const char *name, const char *value, const char *expected)
{
    fprintf(stderr, "creance-feedsim: %s: expected %s, got '%s'\n"
            "try 'creance-feedsim --help'\n", name, expected, value);
    exit(2);
}

static uint32_t parse_count(const char *name, const char *value, uint32_t lo, uint32_t hi)
{
    char *end;
    char expected[64];
    snprintf(expected, sizeof expected, "an integer from %" PRIu32 " to %" PRIu32, lo, hi);
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (errno || end == value || *end || v < lo || v > hi)
        bad_argument(name, value, expected);
    return (uint32_t) v;
}

static bool tenant_valid(const char *t)
{
    size_t n = strlen(t);
    if (n < 1 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                  || (i > 0 && (c == '_' || c == '-'));
        if (!ok)
            return false;
    }
    return true;
}

static void parse_args(int argc, char **argv, options_t *o)
{
    enum { O_ENDPOINT = 1, O_TENANT, O_SOURCE, O_DEBTORS, O_MONTHS, O_SEED, O_END, O_BATCH,
           O_WINDOW, O_TIMEOUT, O_DRY_RUN, O_DUMP, O_QUIET, O_HELP };
    static const struct option longopts[] = {
        { "endpoint", required_argument, NULL, O_ENDPOINT },
        { "tenant", required_argument, NULL, O_TENANT },
        { "source", required_argument, NULL, O_SOURCE },
        { "debtors", required_argument, NULL, O_DEBTORS },
        { "months", required_argument, NULL, O_MONTHS },
        { "seed", required_argument, NULL, O_SEED },
        { "end", required_argument, NULL, O_END },
        { "batch", required_argument, NULL, O_BATCH },
        { "window", required_argument, NULL, O_WINDOW },
        { "timeout", required_argument, NULL, O_TIMEOUT },
        { "dry-run", no_argument, NULL, O_DRY_RUN },
        { "dump", no_argument, NULL, O_DUMP },
        { "quiet", no_argument, NULL, O_QUIET },
        { "help", no_argument, NULL, O_HELP },
        { NULL, 0, NULL, 0 }
    };
    const char *env_endpoint = getenv("CREANCE_INTAKE_ENDPOINT");
    *o = (options_t) {
        .endpoint = env_endpoint && *env_endpoint ? env_endpoint : "tcp://127.0.0.1:5560",
        .tenant = "demo", .source = "sim", .debtors = 200, .months = 12, .seed = 42,
        .end = INT32_MIN, .batch = 500, .window = 8, .timeout_s = 30,
    };
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_ENDPOINT:
            o->endpoint = optarg;           /* checked below, as the default is */
            break;
        case O_TENANT:
            if (!tenant_valid(optarg))
                bad_argument("--tenant", optarg,
                             "1 to 63 of a-z 0-9 _ -, starting with a letter or digit");
            o->tenant = optarg;
            break;
        case O_SOURCE:
            if (!*optarg || strlen(optarg) > 64)
                bad_argument("--source", optarg, "a name of 1 to 64 characters");
            o->source = optarg;
            break;
        case O_DEBTORS: o->debtors = parse_count("--debtors", optarg, 1, 1000000); break;
        case O_MONTHS:  o->months = parse_count("--months", optarg, 1, 120); break;
        case O_BATCH:   o->batch = parse_count("--batch", optarg, 1, 10000); break;
        case O_WINDOW:  o->window = parse_count("--window", optarg, 1, 1000); break;
        case O_TIMEOUT: o->timeout_s = parse_count("--timeout", optarg, 1, 3600); break;
        case O_SEED: {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-' || optarg[0] == '+'
                || optarg[0] == ' ')
                bad_argument("--seed", optarg, "an unsigned 64-bit decimal integer");
            o->seed = v;
            break;
        }
        case O_END: {
            int32_t days;
            int y, m, d;
            if (!date_parse(optarg, &days))
                bad_argument("--end", optarg, "a date YYYY-MM-DD");
            date_from_days(days, &y, &m, &d);
            if (y < 1971 || y > 9998)
                bad_argument("--end", optarg, "a date between 1971 and 9998");
            o->end = days;
            break;
        }
        case O_DRY_RUN: o->dry_run = true; break;
        case O_DUMP:    o->dump = true; break;
        case O_QUIET:   o->quiet = true; break;
        case O_HELP:
            fputs(usage_text, stdout);
            exit(0);
        default: {
            /* getopt_long sets optopt to the option's value when its argument
               is missing, to 0 for an unknown long option. */
            const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
            for (int i = 0; optopt && longopts[i].name; i++)
                if (optopt == longopts[i].val) {
                    fprintf(stderr, "creance-feedsim: --%s: a value is required\n"
                            "try 'creance-feedsim --help'\n", longopts[i].name);
                    exit(2);
                }
            fprintf(stderr, "creance-feedsim: %s: unknown option\n"
                    "try 'creance-feedsim --help'\n", arg);
            exit(2);
        }
        }
    }
    if (optind < argc) {
        fprintf(stderr, "creance-feedsim: %s: unexpected argument (options only)\n"
                "try 'creance-feedsim --help'\n", argv[optind]);
        exit(2);
    }
    if (o->end == INT32_MIN)
        o->end = date_today();
    char err[400];
    if (!intakeroute_endpoints(o->endpoint, &o->endpoints, &o->nendpoints, err, sizeof err)) {
        fprintf(stderr, "creance-feedsim: --endpoint (or CREANCE_INTAKE_ENDPOINT): %s\n"
                "try 'creance-feedsim --help'\n", err);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    sim_t s;
    memset(&s, 0, sizeof s);
    parse_args(argc, argv, &s.opt);
    log_init("feedsim");
    const char *level = getenv("CREANCE_LOG_LEVEL");
    if (level && *level && log_set_level(level) != 0)
        log_warn("ignoring CREANCE_LOG_LEVEL=%s: expected debug, info, warn or error", level);

    sim_generate(&s);
    s.bufs = calloc(s.opt.batch, sizeof *s.bufs);
    s.items = calloc(s.opt.batch, sizeof *s.items);
    if (!s.bufs || !s.items) {
        log_error("out of memory batch=%" PRIu32, s.opt.batch);
        return 1;
    }
    int rc = s.opt.dump ? dump(&s) : s.opt.dry_run ? dry_run(&s) : send_all(&s);
    free(s.bufs);
    free(s.items);
    free(s.facts.v);
    free(s.debtors);
    free(s.debtor_part);
    intakeroute_endpoints_free(&s.opt.endpoints);
    return rc;
}

/*  templates: the reminder texts (render.h syntax, render_ctx_from_data
    values). Plain text: e-mail bodies, SMS-able subjects, the phone script.
    Shared blocks are macros so every level says "how to pay" the same way.
    A tenant-specific wording is a later feature (a table of overrides). */
#include "templates.h"

#include <stddef.h>

/* ------------------------------------------------------------ shared blocks */

#define INVOICES_FR \
    "{{#invoices}}\n" \
    "- facture n° {{number}} du {{issue_date}}, échue le {{due_date}} : {{open}}\n" \
    "{{/invoices}}\n"
#define INVOICES_EN \
    "{{#invoices}}\n" \
    "- invoice {{number}} of {{issue_date}}, due {{due_date}}: {{open}}\n" \
    "{{/invoices}}\n"

#define PAY_FR \
    "Pour régler :\n" \
    "{{#iban}}\n" \
    "- par virement : IBAN {{iban}}{{#bic}}, BIC {{bic}}{{/bic}}{{#reference}}, référence à rappeler : {{reference}}{{/reference}}\n" \
    "{{/iban}}\n" \
    "{{#pay_url}}\n" \
    "- en ligne : {{pay_url}}\n" \
    "{{/pay_url}}\n" \
    "{{^iban}}\n" \
    "{{^pay_url}}\n" \
    "- contactez-nous pour les modalités de paiement.\n" \
    "{{/pay_url}}\n" \
    "{{/iban}}\n"
#define PAY_EN \
    "How to pay:\n" \
    "{{#iban}}\n" \
    "- bank transfer: IBAN {{iban}}{{#bic}}, BIC {{bic}}{{/bic}}{{#reference}}, reference: {{reference}}{{/reference}}\n" \
    "{{/iban}}\n" \
    "{{#pay_url}}\n" \
    "- online: {{pay_url}}\n" \
    "{{/pay_url}}\n" \
    "{{^iban}}\n" \
    "{{^pay_url}}\n" \
    "- please contact us for payment details.\n" \
    "{{/pay_url}}\n" \
    "{{/iban}}\n"

#define SIGN_FR \
    "\nCordialement,\n" \
    "{{#signatory}}\n" \
    "{{signatory}}\n" \
    "{{/signatory}}\n" \
    "{{creditor_name}}\n" \
    "{{#contact}}\n" \
    "Contact : {{contact}}\n" \
    "{{/contact}}\n"
#define SIGN_EN \
    "\nKind regards,\n" \
    "{{#signatory}}\n" \
    "{{signatory}}\n" \
    "{{/signatory}}\n" \
    "{{creditor_name}}\n" \
    "{{#contact}}\n" \
    "Contact: {{contact}}\n" \
    "{{/contact}}\n"

#define PENALTIES_FR \
    "{{#has_penalties}}\n" \
    "\nTout retard de paiement entraîne de plein droit des pénalités de retard et une indemnité forfaitaire pour frais de recouvrement ({{penalties_basis}}). À ce jour :\n" \
    "{{#invoices}}\n" \
    "{{#has_penalties}}\n" \
    "Facture n° {{number}} :\n" \
    "{{penalties_explain}}\n" \
    "{{/has_penalties}}\n" \
    "{{/invoices}}\n" \
    "Total des pénalités et indemnités : {{total_penalties}}\n" \
    "{{/has_penalties}}\n"
#define PENALTIES_EN \
    "{{#has_penalties}}\n" \
    "\nLate payment entitles us to late-payment interest and a fixed compensation for recovery costs ({{penalties_basis}}). To date:\n" \
    "{{#invoices}}\n" \
    "{{#has_penalties}}\n" \
    "Invoice {{number}}:\n" \
    "{{penalties_explain}}\n" \
    "{{/has_penalties}}\n" \
    "{{/invoices}}\n" \
    "Total interest and compensation: {{total_penalties}}\n" \
    "{{/has_penalties}}\n"

/* ------------------------------------------------------------ French */

static const templates_entry_t s_fr[RENDER_MSG_COUNT] = {
    [RENDER_MSG_COURTESY] = {
        "Échéance prochaine de vos factures – {{creditor_name}}",
        "Bonjour,\n\n"
        "Nous vous rappelons que les factures suivantes arrivent prochainement à échéance :\n"
        "{{#invoices}}\n"
        "- facture n° {{number}} du {{issue_date}}, à régler au plus tard le {{due_date}} : {{open}}\n"
        "{{/invoices}}\n"
        "\nMontant total : {{total_open}}\n\n"
        "Si le règlement est déjà en cours, merci de ne pas tenir compte de ce message.\n\n"
        PAY_FR SIGN_FR },
    [RENDER_MSG_FRIENDLY] = {
        "Relance : factures échues – {{creditor_name}}",
        "Bonjour,\n\n"
        "Sauf erreur de notre part, nous n'avons pas encore reçu le règlement des factures suivantes :\n"
        INVOICES_FR
        "\nMontant restant dû : {{total_open}}\n\n"
        "Il s'agit probablement d'un simple oubli : merci de procéder au règlement dans les meilleurs délais. "
        "Si vous l'avez déjà effectué, merci de ne pas tenir compte de ce message.\n\n"
        PAY_FR SIGN_FR },
    [RENDER_MSG_FIRM] = {
        "Deuxième relance : {{total_open}} restant dû – {{creditor_name}}",
        "Madame, Monsieur,\n\n"
        "Malgré notre précédente relance, les factures suivantes restent impayées :\n"
        INVOICES_FR
        "\nMontant restant dû : {{total_open}}\n"
        PENALTIES_FR
        "\nNous vous demandons de régler cette somme au plus tard le {{deadline}}. "
        "En cas de difficulté ou de désaccord, contactez-nous sans tarder.\n\n"
        PAY_FR SIGN_FR },
    [RENDER_MSG_PHONE_SCRIPT] = {
        "Appel de relance – {{debtor_name}} – {{total_open}}",
        "Appel de relance : {{debtor_name}}{{#debtor_phone}}, {{debtor_phone}}{{/debtor_phone}}\n\n"
        "1. Se présenter : « Bonjour, je vous appelle de la part de {{creditor_name}} au sujet de factures restées impayées. »\n"
        "2. Vérifier que l'on parle au bon service (comptabilité fournisseurs) et noter le nom de l'interlocuteur.\n"
        "3. Rappeler les factures :\n"
        "{{#invoices}}\n"
        "   - n° {{number}}, échue le {{due_date}} ({{days_late}} jours de retard) : {{open}}\n"
        "{{/invoices}}\n"
        "   Total restant dû : {{total_open}}\n"
        "{{#has_penalties}}\n"
        "   Pénalités et indemnités à ce jour : {{total_penalties}}\n"
        "{{/has_penalties}}\n"
        "4. Demander la raison du retard ; noter précisément toute contestation (ouvrir un litige).\n"
        "5. Obtenir un engagement daté : montant et date de paiement (promesse), ou proposer un échéancier.\n"
        "6. Rappeler les moyens de paiement{{#iban}} (IBAN {{iban}}){{/iban}}{{#reference}}, référence {{reference}}{{/reference}}.\n"
        "7. Prévenir : sans règlement au {{deadline}}, une mise en demeure sera envoyée.\n" },
    [RENDER_MSG_FORMAL_NOTICE] = {
        "Mise en demeure de payer – {{total_due}} – {{creditor_name}}",
        "Madame, Monsieur,\n\n"
        "Malgré nos relances, les factures ci-dessous demeurent impayées. Par la présente, nous vous mettons en demeure "
        "de nous régler la somme de {{total_due}} au plus tard le {{deadline}}, soit sous {{deadline_days}} jours.\n\n"
        INVOICES_FR
        "\nPrincipal restant dû : {{total_open}}\n"
        PENALTIES_FR
        "\nTotal à régler : {{total_due}}\n\n"
        "À défaut de paiement dans ce délai, nous engagerons sans autre avis une procédure de recouvrement, "
        "judiciaire le cas échéant, dont les frais resteront à votre charge.\n"
        "La lettre de mise en demeure est jointe à ce message.\n\n"
        PAY_FR SIGN_FR },
    [RENDER_MSG_HANDOFF] = {
        "Transmission de votre dossier au recouvrement – {{creditor_name}}",
        "Madame, Monsieur,\n\n"
        "Malgré notre mise en demeure, les factures suivantes restent impayées :\n"
        INVOICES_FR
        "\nTotal dû, pénalités comprises : {{total_due}}\n\n"
        "Nous vous informons que votre dossier est transmis ce jour à notre service contentieux ou à un "
        "organisme de recouvrement, qui prendra contact avec vous. Un règlement immédiat de {{total_due}} "
        "reste possible et mettrait fin à la procédure.\n\n"
        PAY_FR SIGN_FR },
    [RENDER_MSG_INSTALMENT] = {
        "Échéancier : échéance {{instalment_number}}/{{instalment_count}} du {{promise_date}} – {{creditor_name}}",
        "Bonjour,\n\n"
        "Nous vous rappelons que l'échéance n° {{instalment_number}} sur {{instalment_count}} de votre plan de "
        "règlement, d'un montant de {{promise_amount}}, est à régler le {{promise_date}}.\n\n"
        "Le respect de l'échéancier suspend nos relances ; une échéance manquée entraînerait la reprise de la "
        "procédure de recouvrement pour l'ensemble du solde ({{total_open}}).\n\n"
        PAY_FR SIGN_FR },
    [RENDER_MSG_PROMISE] = {
        "Votre engagement de paiement du {{promise_date}} – {{creditor_name}}",
        "Bonjour,\n\n"
        "Vous vous êtes engagé à nous régler {{promise_amount}} le {{promise_date}} pour les factures suivantes :\n"
        INVOICES_FR
        "\nNous vous remercions de respecter cet engagement. Sans règlement à cette date, nos relances "
        "reprendront.\n\n"
        PAY_FR SIGN_FR },
};

/* ------------------------------------------------------------ English */

static const templates_entry_t s_en[RENDER_MSG_COUNT] = {
    [RENDER_MSG_COURTESY] = {
        "Invoices falling due soon – {{creditor_name}}",
        "Hello,\n\n"
        "This is a friendly reminder that the following invoices fall due soon:\n"
        "{{#invoices}}\n"
        "- invoice {{number}} of {{issue_date}}, payable by {{due_date}}: {{open}}\n"
        "{{/invoices}}\n"
        "\nTotal: {{total_open}}\n\n"
        "If payment is already on its way, please disregard this message.\n\n"
        PAY_EN SIGN_EN },
    [RENDER_MSG_FRIENDLY] = {
        "Reminder: overdue invoices – {{creditor_name}}",
        "Hello,\n\n"
        "According to our records, we have not yet received payment of the following invoices:\n"
        INVOICES_EN
        "\nAmount outstanding: {{total_open}}\n\n"
        "This is probably an oversight: please arrange payment at your earliest convenience. "
        "If you have already paid, please disregard this message.\n\n"
        PAY_EN SIGN_EN },
    [RENDER_MSG_FIRM] = {
        "Second reminder: {{total_open}} outstanding – {{creditor_name}}",
        "Dear Sir or Madam,\n\n"
        "Despite our previous reminder, the following invoices remain unpaid:\n"
        INVOICES_EN
        "\nAmount outstanding: {{total_open}}\n"
        PENALTIES_EN
        "\nPlease pay this amount by {{deadline}} at the latest. "
        "If there is a difficulty or a disagreement, contact us without delay.\n\n"
        PAY_EN SIGN_EN },
    [RENDER_MSG_PHONE_SCRIPT] = {
        "Collection call – {{debtor_name}} – {{total_open}}",
        "Collection call: {{debtor_name}}{{#debtor_phone}}, {{debtor_phone}}{{/debtor_phone}}\n\n"
        "1. Introduce yourself: \"Hello, I am calling on behalf of {{creditor_name}} about unpaid invoices.\"\n"
        "2. Check you are speaking to the right department (accounts payable) and note the person's name.\n"
        "3. Go through the invoices:\n"
        "{{#invoices}}\n"
        "   - {{number}}, due {{due_date}} ({{days_late}} days late): {{open}}\n"
        "{{/invoices}}\n"
        "   Total outstanding: {{total_open}}\n"
        "{{#has_penalties}}\n"
        "   Interest and compensation to date: {{total_penalties}}\n"
        "{{/has_penalties}}\n"
        "4. Ask why payment is late; record any dispute precisely (open a dispute).\n"
        "5. Get a dated commitment: amount and payment date (promise to pay), or offer a payment plan.\n"
        "6. Give the payment details{{#iban}} (IBAN {{iban}}){{/iban}}{{#reference}}, reference {{reference}}{{/reference}}.\n"
        "7. Warn: without payment by {{deadline}}, a formal notice will be sent.\n" },
    [RENDER_MSG_FORMAL_NOTICE] = {
        "Formal notice to pay (mise en demeure) – {{total_due}} – {{creditor_name}}",
        "Dear Sir or Madam,\n\n"
        "Despite our reminders, the invoices below remain unpaid. This is a formal notice (mise en demeure) "
        "to pay us {{total_due}} by {{deadline}} at the latest, that is within {{deadline_days}} days.\n\n"
        INVOICES_EN
        "\nPrincipal outstanding: {{total_open}}\n"
        PENALTIES_EN
        "\nTotal to pay: {{total_due}}\n\n"
        "Failing payment within this period, we will start recovery proceedings, including court action "
        "where appropriate, without further notice, at your expense.\n"
        "The formal notice letter is attached to this message.\n\n"
        PAY_EN SIGN_EN },
    [RENDER_MSG_HANDOFF] = {
        "Your account is being passed to debt recovery – {{creditor_name}}",
        "Dear Sir or Madam,\n\n"
        "Despite our formal notice, the following invoices remain unpaid:\n"
        INVOICES_EN
        "\nTotal due, including interest and compensation: {{total_due}}\n\n"
        "Your account is today being passed to our legal department or to a debt collection agency, who "
        "will contact you. Immediate payment of {{total_due}} is still possible and would end the procedure.\n\n"
        PAY_EN SIGN_EN },
    [RENDER_MSG_INSTALMENT] = {
        "Payment plan: instalment {{instalment_number}}/{{instalment_count}} due {{promise_date}} – {{creditor_name}}",
        "Hello,\n\n"
        "This is a reminder that instalment {{instalment_number}} of {{instalment_count}} of your payment plan, "
        "{{promise_amount}}, is due on {{promise_date}}.\n\n"
        "While the plan is kept, our reminders are suspended; a missed instalment would resume recovery of "
        "the whole balance ({{total_open}}).\n\n"
        PAY_EN SIGN_EN },
    [RENDER_MSG_PROMISE] = {
        "Your promise to pay on {{promise_date}} – {{creditor_name}}",
        "Hello,\n\n"
        "You have promised to pay us {{promise_amount}} on {{promise_date}} for the following invoices:\n"
        INVOICES_EN
        "\nThank you for keeping this commitment. Without payment on that date, our reminders will resume.\n\n"
        PAY_EN SIGN_EN },
};

const templates_entry_t *templates_find(render_msg_t kind, render_lang_t lang)
{
    if ((unsigned) kind >= RENDER_MSG_COUNT)
        return NULL;
    const templates_entry_t *t = lang == RENDER_LANG_FR ? &s_fr[kind]
                               : lang == RENDER_LANG_EN ? &s_en[kind] : NULL;
    return t && t->subject && t->body ? t : NULL;
}

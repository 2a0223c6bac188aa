"""Bank files written for the tests, as a French bank sends them back for one of our SEPA
batches: a status report (pain.002.001.03), an account notification (camt.054.001.02) and an
account statement (camt.053.001.02). Each is valid against its official schema
(cheques/data/iso20022; tests/cheques/test_bank_reports.py checks it)."""

import datetime

from django.conf import settings

BANK_BIC = "AGRIFRPP"


def _euros(cents):
    return f"{cents / 100:.2f}"


def status_report(batch, *, group="ACCP", transactions=(), message_id=None, group_reason="",
                  created=None, original_id=None, accepted_on=None):
    """pain.002.001.03 for `batch`. `transactions`: [(end_to_end_id, status, reason code,
    additional information)] listed one by one; the others take the group's status."""
    created = created or datetime.datetime(2027, 1, 5, 9, 12, 0)
    message_id = message_id or f"STS{batch.pk:05d}{group}{len(transactions)}"
    transfers = {t.end_to_end_id: t for t in batch.credit_transfers.all()}
    txs = []
    for index, (e2e, status, code, info) in enumerate(transactions, start=1):
        transfer = transfers.get(e2e)
        reason = ""
        if code:
            reason = (f"<StsRsnInf><Orgtr><Id><OrgId><BICOrBEI>{BANK_BIC}</BICOrBEI></OrgId>"
                      f"</Id></Orgtr><Rsn><Cd>{code}</Cd></Rsn>"
                      + (f"<AddtlInf>{info}</AddtlInf>" if info else "") + "</StsRsnInf>")
        accepted = (f"<AccptncDtTm>{accepted_on.isoformat()}T10:00:00</AccptncDtTm>"
                    if accepted_on and status == "ACSC" else "")
        reference = ""
        if transfer is not None:
            reference = (
                f"<OrgnlTxRef><Amt><InstdAmt Ccy=\"EUR\">{_euros(transfer.amount_cents)}"
                f"</InstdAmt></Amt><ReqdExctnDt>{batch.execution_date.isoformat()}"
                f"</ReqdExctnDt><CdtrAgt><FinInstnId><BIC>{transfer.bic}</BIC></FinInstnId>"
                f"</CdtrAgt><CdtrAcct><Id><IBAN>{transfer.iban}</IBAN></Id></CdtrAcct>"
                f"</OrgnlTxRef>")
        txs.append(f"""
        <TxInfAndSts>
          <StsId>{message_id[:20]}-{index}</StsId>
          <OrgnlEndToEndId>{e2e}</OrgnlEndToEndId>
          <TxSts>{status}</TxSts>
          {reason}{accepted}{reference}
        </TxInfAndSts>""")
    group_reason_xml = (f"<StsRsnInf><Rsn><Cd>{group_reason}</Cd></Rsn></StsRsnInf>"
                        if group_reason else "")
    payment_status = group if group in ("PART", "RJCT", "ACCP", "ACSC", "ACTC") else "ACCP"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <CstmrPmtStsRpt>
    <GrpHdr>
      <MsgId>{message_id}</MsgId>
      <CreDtTm>{created.isoformat()}</CreDtTm>
      <InitgPty><Nm>CREDIT AGRICOLE</Nm></InitgPty>
      <DbtrAgt><FinInstnId><BIC>{BANK_BIC}</BIC></FinInstnId></DbtrAgt>
    </GrpHdr>
    <OrgnlGrpInfAndSts>
      <OrgnlMsgId>{original_id or batch.message_id}</OrgnlMsgId>
      <OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId>
      <OrgnlNbOfTxs>{batch.transfers}</OrgnlNbOfTxs>
      <OrgnlCtrlSum>{_euros(batch.total_cents)}</OrgnlCtrlSum>
      <GrpSts>{group}</GrpSts>
      {group_reason_xml}
    </OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>{batch.message_id[:30]}-1</OrgnlPmtInfId>
      <OrgnlNbOfTxs>{batch.transfers}</OrgnlNbOfTxs>
      <OrgnlCtrlSum>{_euros(batch.total_cents)}</OrgnlCtrlSum>
      <PmtInfSts>{payment_status}</PmtInfSts>{"".join(txs)}
    </OrgnlPmtInfAndSts>
  </CstmrPmtStsRpt>
</Document>
"""


def _entry(reference, *, cents, e2e, booked, direction="DBIT", iban="", bic="", holder="",
           return_code="", batch_of=None):
    """One booked entry of the operator's account carrying one of our transfers."""
    counterpart = ""
    if direction == "DBIT":
        counterpart = (f"<RltdPties><Cdtr><Nm>{holder}</Nm></Cdtr><CdtrAcct><Id><IBAN>{iban}"
                       f"</IBAN></Id></CdtrAcct></RltdPties><RltdAgts><CdtrAgt><FinInstnId>"
                       f"<BIC>{bic}</BIC></FinInstnId></CdtrAgt></RltdAgts>")
    returned = ""
    if return_code:
        returned = (f"<RtrInf><Rsn><Cd>{return_code}</Cd></Rsn>"
                    f"<AddtlInf>Retour du virement {e2e}</AddtlInf></RtrInf>")
    code = "ICDT" if direction == "DBIT" else "RCDT"
    family = "ESCT" if direction == "DBIT" else "RRTN"
    return f"""
      <Ntry>
        <NtryRef>{reference}</NtryRef>
        <Amt Ccy="EUR">{_euros(cents)}</Amt>
        <CdtDbtInd>{direction}</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>{booked.isoformat()}</Dt></BookgDt>
        <ValDt><Dt>{booked.isoformat()}</Dt></ValDt>
        <AcctSvcrRef>{reference}</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{code}</Cd><SubFmlyCd>{family}</SubFmlyCd>
        </Fmly></Domn></BkTxCd>
        <NtryDtls>
          <TxDtls>
            <Refs><EndToEndId>{e2e}</EndToEndId></Refs>
            <AmtDtls><TxAmt><Amt Ccy="EUR">{_euros(cents)}</Amt></TxAmt></AmtDtls>
            {counterpart}
            <RmtInf><Ustrd>APTIC releve</Ustrd></RmtInf>
            {returned}
          </TxDtls>
        </NtryDtls>
      </Ntry>"""


def _unrelated_entry(booked):
    """A funder paying its invoice: an entry of the account that is none of our transfers."""
    return f"""
      <Ntry>
        <NtryRef>VIR-FACT-2027-0001</NtryRef>
        <Amt Ccy="EUR">1250.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>{booked.isoformat()}</Dt></BookgDt>
        <ValDt><Dt>{booked.isoformat()}</Dt></ValDt>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly>
        </Domn></BkTxCd>
        <NtryDtls><TxDtls><Refs><EndToEndId>FACT-2027-000001</EndToEndId></Refs>
          <RmtInf><Ustrd>Facture F2027-000001</Ustrd></RmtInf></TxDtls></NtryDtls>
      </Ntry>"""


def _entries(transfers, booked, amounts=None, returns=None, unrelated=False):
    entries = []
    for index, transfer in enumerate(transfers, start=1):
        cents = (amounts or {}).get(transfer.end_to_end_id, transfer.amount_cents)
        code = (returns or {}).get(transfer.end_to_end_id, "")
        entries.append(_entry(
            f"E{booked:%Y%m%d}{index:04d}{'R' if code else ''}", cents=cents,
            e2e=transfer.end_to_end_id, booked=booked,
            direction="CRDT" if code else "DBIT", iban=transfer.iban, bic=transfer.bic,
            holder=transfer.holder[:70].replace("&", "et"), return_code=code))
    if unrelated:
        entries.append(_unrelated_entry(booked))
    return "".join(entries)


def notification(transfers, *, booked, message_id=None, amounts=None, returns=None,
                 account=None, unrelated=True):
    """camt.054.001.02: the operator's bank tells the debits (or the returns) of our
    transfers, with the credited amounts, and an unrelated credit of the same day."""
    message_id = message_id or f"NTF{booked:%Y%m%d}{len(transfers):03d}{len(returns or {})}"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr>
      <MsgId>{message_id}</MsgId>
      <CreDtTm>{booked.isoformat()}T18:30:00</CreDtTm>
    </GrpHdr>
    <Ntfctn>
      <Id>{message_id}-1</Id>
      <CreDtTm>{booked.isoformat()}T18:30:00</CreDtTm>
      <Acct>
        <Id><IBAN>{account or settings.OPERATOR_IBAN}</IBAN></Id>
        <Ccy>EUR</Ccy>
        <Svcr><FinInstnId><BIC>{BANK_BIC}</BIC></FinInstnId></Svcr>
      </Acct>{_entries(transfers, booked, amounts, returns, unrelated)}
    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>
"""


def account_statement(transfers, *, booked, message_id=None, opening_cents=1_000_000):
    """camt.053.001.02: the day's statement of the operator's account, with its balances."""
    message_id = message_id or f"STM{booked:%Y%m%d}{len(transfers):03d}"
    paid = sum(t.amount_cents for t in transfers)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr>
      <MsgId>{message_id}</MsgId>
      <CreDtTm>{booked.isoformat()}T20:00:00</CreDtTm>
    </GrpHdr>
    <Stmt>
      <Id>{message_id}-1</Id>
      <ElctrncSeqNb>{booked:%j}</ElctrncSeqNb>
      <CreDtTm>{booked.isoformat()}T20:00:00</CreDtTm>
      <Acct>
        <Id><IBAN>{settings.OPERATOR_IBAN}</IBAN></Id>
        <Ccy>EUR</Ccy>
        <Svcr><FinInstnId><BIC>{BANK_BIC}</BIC></FinInstnId></Svcr>
      </Acct>
      <Bal>
        <Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="EUR">{_euros(opening_cents)}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Dt><Dt>{booked.isoformat()}</Dt></Dt>
      </Bal>
      <Bal>
        <Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="EUR">{_euros(opening_cents - paid + 125000)}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Dt><Dt>{booked.isoformat()}</Dt></Dt>
      </Bal>{_entries(transfers, booked, unrelated=True)}
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""

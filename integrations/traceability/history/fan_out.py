"""The per-step fan-out of the generated history, inside PostgreSQL by set-based INSERT … SELECT from the
copied travelers: steps, their characteristics, values (about 1 % out of spec, some corrected),
signatures, and a dispositioned NCR for each traveler with a value out of spec."""

# ruff: noqa: S608 - statements are assembled from constant fragments and generated numbers only.

from __future__ import annotations

from django.conf import settings

from .run import HistoryRun


def fan_out(run: HistoryRun, cursor) -> None:
    """Steps, characteristics, values, signatures and NCRs of every copied traveler, set-based."""
    rs = (
        "(SELECT id, routing_id, row_number() OVER (PARTITION BY routing_id ORDER BY sequence) - 1 AS k "
        "FROM masterdata_routingstep)"
    )
    cursor.execute("SELECT setseed(0.42)")
    cursor.execute(
        f"""
        CREATE TEMP TABLE gen_step ON COMMIT DROP AS
        SELECT r.id AS routing_step_id, r.routing_id, r.k, s.operation_id, s.title, s.signoff, s.sequence,
               coalesce((SELECT jsonb_agg(jsonb_build_object('part_id', c.part_id, 'part_number', p.number,
                                                              'quantity', c.quantity::text))
                         FROM masterdata_routingstepcomponent c JOIN masterdata_part p ON p.id = c.part_id
                         WHERE c.step_id = r.id), '[]'::jsonb) AS components
        FROM {rs} r JOIN masterdata_routingstep s ON s.id = r.id"""
    )
    cursor.execute(
        "CREATE TEMP TABLE gen_wc (site_id bigint, operation_id bigint, work_center_id bigint) ON COMMIT DROP"
    )
    cursor.executemany("INSERT INTO gen_wc VALUES (%s, %s, %s)", [(s, o, w) for (s, o), w in run.work_centers.items()])
    cursor.execute(
        """CREATE TEMP TABLE gen_alias ON COMMIT DROP AS
           SELECT a.site_id, a.operation_id, a.code FROM masterdata_operationalias a WHERE a.site_id IS NOT NULL"""
    )
    operators = f"(ARRAY[{','.join(map(str, run.operators))}])[1 + floor(random() * {len(run.operators)})::int]"
    inspectors = f"(ARRAY[{','.join(map(str, run.inspectors))}])[1 + floor(random() * {len(run.inspectors)})::int]"
    base = run.signature_base  # generated signature ids: see run.HistoryRun
    # steps: id = traveler id * 8 + k; in-work travelers have their first two steps done
    cursor.execute(
        f"""
        INSERT INTO travelers_travelerstep (id, traveler_id, sequence, origin, source_step_id, operation_id,
            operation_alias, work_center_id, title, instructions, signoff, may_run_out_of_order, components,
            status, started_at, started_by_id, completed_at, performed_signature_id, inspected_signature_id,
            skip_reason, version, created_at)
        SELECT t.id * 8 + g.k, t.id, g.sequence, 'routing', g.routing_step_id, g.operation_id,
               coalesce(a.code, ''), w.work_center_id, g.title, '', g.signoff, false, g.components,
               CASE WHEN done THEN 'completed' ELSE 'pending' END,
               CASE WHEN done THEN t.released_at + make_interval(hours => (2 * g.k)::int) END,
               CASE WHEN done THEN {operators} END,
               CASE WHEN done THEN t.released_at + make_interval(hours => (2 * g.k + 1)::int) END,
               CASE WHEN done THEN {base} + (t.id * 8 + g.k) * 4 END,
               CASE WHEN done AND g.signoff = 'operator+inspector' THEN {base} + (t.id * 8 + g.k) * 4 + 1 END,
               '', 1, t.released_at
        FROM travelers_traveler t
        JOIN gen_step g ON g.routing_id = t.routing_id
        CROSS JOIN LATERAL (SELECT t.status = 'closed' OR g.k < 2 AS done) d
        LEFT JOIN gen_wc w ON w.site_id = t.site_id AND w.operation_id = g.operation_id
        LEFT JOIN gen_alias a ON a.site_id = t.site_id AND a.operation_id = g.operation_id"""
    )
    run.say(f"{cursor.rowcount:,} steps")
    cursor.execute(
        """
        INSERT INTO travelers_travelercharacteristic (id, step_id, source_id, spec_revision, sequence, code, name,
            kind, unit, nominal, lower_limit, upper_limit, decimals, choices, required, on_out_of_spec,
            device_endpoint, device_node, device_unit, device_scale)
        SELECT s.id * 16 + row_number() OVER (PARTITION BY s.id ORDER BY c.sequence, c.id), s.id, c.id,
               'generated', c.sequence, c.code, c.name, c.kind, c.unit, c.nominal, c.lower_limit,
               c.upper_limit, c.decimals, c.choices, c.required, c.on_out_of_spec, '', '', '', 1
        FROM travelers_travelerstep s JOIN masterdata_characteristic c ON c.step_id = s.source_step_id"""
    )
    run.say(f"{cursor.rowcount:,} characteristics")
    # values: nominal + tolerance × a normal-ish draw; about 1 % lands out of spec. Measurement id =
    # characteristic id * 2 (the value), + 1 for its correction (0.5 % of values are corrected)
    value = "round((c.nominal + (c.upper_limit - c.nominal) * d.z)::numeric, 4)"
    cursor.execute(
        f"""
        CREATE TEMP TABLE gen_value ON COMMIT DROP AS
        SELECT c.id AS characteristic_id, s.id AS step_id, s.started_at, s.started_by_id, {value} AS v,
               c.lower_limit, c.upper_limit, c.nominal, c.unit, random() < 0.005 AS corrected
        FROM travelers_travelerstep s
        JOIN travelers_travelercharacteristic c ON c.step_id = s.id
        CROSS JOIN LATERAL (SELECT (random() + random() + random() + random() + random() + random() - 3)
                                   * CASE WHEN random() < 0.012 THEN 1.6 ELSE 0.55 END + 0 * c.id AS z) d
        WHERE s.status = 'completed'"""
    )
    judged = (
        "CASE WHEN {v} < lower_limit OR {v} > upper_limit THEN 'out_of_spec' ELSE 'in_spec' END, "
        "CASE WHEN {v} > upper_limit THEN {v} - upper_limit WHEN {v} < lower_limit THEN {v} - lower_limit "
        "ELSE 0 END"
    )
    cursor.execute(
        f"""
        INSERT INTO travelers_measurement (id, step_id, characteristic_id, entered_value, entered_unit,
            value_numeric, value_text, judgment, deviation, spec_revision, spec_unit, spec_lower, spec_upper,
            spec_nominal, source, device, device_endpoint, device_raw, recorded_at, recorded_by_id, supersedes_id,
            correction_reason, correction_signature_id)
        SELECT characteristic_id * 2, step_id, characteristic_id, v::text, unit, v, '',
               {judged.format(v="v")}, 'generated', unit, lower_limit, upper_limit, nominal, 'manual', '', '', '',
               started_at + interval '20 minutes', started_by_id, NULL::bigint, '', NULL::bigint
        FROM gen_value
        UNION ALL
        SELECT characteristic_id * 2 + 1, step_id, characteristic_id, nominal::text, unit, nominal, '',
               {judged.format(v="nominal")}, 'generated', unit, lower_limit, upper_limit, nominal, 'manual', '',
               '', '', started_at + interval '40 minutes', started_by_id, characteristic_id * 2, 're-measured',
               {base} + 2000000000000 + characteristic_id
        FROM gen_value WHERE corrected"""
    )
    run.say(f"{cursor.rowcount:,} measurements")
    # signatures: performed and inspected per step, final approval per closed traveler, corrections
    sig = (
        "INSERT INTO compliance_signature (id, signer_id, printed_name, meaning, signed_at, record_type, "
        "record_id, content_hash, method, qualification_id, qualification_text, comment, key_id, language) "
    )
    names = "(SELECT printed_name FROM compliance_profile p WHERE p.user_id = {who})"
    cursor.execute(
        sig
        + f"""
        SELECT s.performed_signature_id, s.started_by_id, {names.format(who="s.started_by_id")}, 'performed',
               s.completed_at, 'travelers.step', s.id::text, md5(s.id::text) || md5(s.id::text), 'password',
               NULL::bigint, '', '', '', {language_of("s.started_by_id")}
        FROM travelers_travelerstep s WHERE s.performed_signature_id IS NOT NULL
        UNION ALL
        SELECT s.inspected_signature_id, x.who, {names.format(who="x.who")}, 'inspected',
               s.completed_at + interval '10 minutes', 'travelers.step', s.id::text,
               md5(s.id::text || 'i') || md5(s.id::text || 'i'), 'pin', NULL::bigint, '', '', '',
               {language_of("x.who")}
        FROM travelers_travelerstep s CROSS JOIN LATERAL (SELECT {inspectors} + 0 * s.id AS who) x
        WHERE s.inspected_signature_id IS NOT NULL
        UNION ALL
        SELECT t.final_signature_id, x.who, {names.format(who="x.who")}, 'approved', t.closed_at,
               'travelers.traveler', t.id::text, md5(t.number) || md5(t.number), 'password', NULL::bigint,
               '', '', '', {language_of("x.who")}
        FROM travelers_traveler t CROSS JOIN LATERAL (SELECT {inspectors} + 0 * t.id AS who) x
        WHERE t.final_signature_id IS NOT NULL
        UNION ALL
        SELECT m.correction_signature_id, m.recorded_by_id, {names.format(who="m.recorded_by_id")},
               'corrected', m.recorded_at, 'travelers.measurement', m.id::text, md5(m.id::text) || md5('c'),
               'password', NULL::bigint, '', 're-measured', '', {language_of("m.recorded_by_id")}
        FROM travelers_measurement m WHERE m.correction_signature_id IS NOT NULL"""
    )
    run.say(f"{cursor.rowcount:,} signatures")
    # an NCR for each traveler whose value went out of spec (dispositioned "use as is", signed)
    cursor.execute(
        f"""
        WITH bad AS (
            SELECT DISTINCT ON (s.traveler_id) s.traveler_id, s.id AS step_id, m.id AS measurement_id,
                   m.recorded_at, m.recorded_by_id
            FROM travelers_measurement m JOIN travelers_travelerstep s ON s.id = m.step_id
            WHERE m.judgment = 'out_of_spec' AND m.supersedes_id IS NULL
            ORDER BY s.traveler_id, m.id
        ), numbered AS (SELECT row_number() OVER (ORDER BY traveler_id) AS n, * FROM bad),
        ncr AS (
            INSERT INTO travelers_nonconformance (id, number, traveler_id, step_id, measurement_id, description,
                status, raised_at, raised_by_id, automatic, disposition, disposition_notes, dispositioned_at,
                disposition_signature_id)
            SELECT n, 'NCR-' || lpad(n::text, 6, '0'), traveler_id, step_id, measurement_id,
                   'value out of spec', 'closed', recorded_at, recorded_by_id, true, 'use_as_is', 'within MRB',
                   recorded_at + interval '1 hour', {base} + 3000000000000 + n
            FROM numbered RETURNING id, dispositioned_at, number
        )
        {sig} SELECT {base} + 3000000000000 + ncr.id, x.who, {names.format(who="x.who")}, 'dispositioned',
               ncr.dispositioned_at, 'travelers.ncr', ncr.id::text, md5(ncr.number) || md5(ncr.number),
               'password', NULL::bigint, '', 'within MRB', '', {language_of("x.who")}
        FROM ncr CROSS JOIN LATERAL (SELECT {inspectors} + 0 * ncr.id AS who) x"""
    )
    run.say(f"{cursor.rowcount:,} NCRs, dispositioned")


def language_of(who: str) -> str:
    """SQL for the language signer `who` read the signing statement in, as the signing service stores it
    (the language active when they signed, mes.i18n): their own, else their site's, else the default."""
    default = settings.LANGUAGE_CODE
    if default not in dict(settings.LANGUAGES):
        raise ValueError(f"LANGUAGE_CODE {default!r} is not one of LANGUAGES")
    return (
        "coalesce((SELECT coalesce(nullif(p.language, ''), nullif(site.language, '')) FROM compliance_profile p "
        f"LEFT JOIN masterdata_site site ON site.id = p.site_id WHERE p.user_id = {who}), '{default}')"
    )

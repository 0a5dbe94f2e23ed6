"""RV603: SQL built by string formatting or concatenation from non-constant parts."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from reviewer.findings import Finding, Fix, Severity, TextEdit
from reviewer.languages.python import PyContext
from reviewer.rules._dataflow import (
    SQL_FRAGMENT,
    Flow,
    argument,
    calls,
    flow,
    is_sqlish,
    literal_text,
    sanitized_attribute,
    sanitizes,
)
from reviewer.rules.base import Invalid, Rule
from reviewer.sinks import Catalogue, Sink, catalogue

# The catalogue's kind this rule reads: calls that run (or wrap) SQL text.
KINDS = frozenset({"sql"})
# Django QuerySet.extra() arguments that are SQL: keyword -> position.
EXTRA_SQL_ARGS = {"select": 0, "where": 1, "tables": 3, "order_by": 4}
SQL_KEYWORDS = frozenset({"sql", "query", "statement", "operation", "text"})
# Quoting an identifier or converting to a number makes a value safe to splice; so is
# what an SQL compiler returns (Django's ``as_sql()``/``compile()`` give the SQL text with
# its values kept apart as parameters, SQLAlchemy's ``compile()`` bind parameters).
# Also what the code derives names with itself (a private ``_*_name()`` helper: sequence,
# index and constraint names) and the backend's feature description (``connection.
# features.*``: the driver's capability flags and fixed syntax, code, not input).
SANITIZERS = frozenset(
    {"quote*", "escape*", "int", "float", "as_sql", "compile", "*_sql", SQL_FRAGMENT,
     "@placeholder", "_*_name", "connection.features.*",
     "psycopg2.sql.Identifier", "psycopg.sql.Identifier", "psycopg2.sql.Literal",
     "psycopg.sql.Literal"}
)
# The database's own catalogue: what the backend's introspection returns are the names of
# tables and columns that exist (Django's ``connection.introspection.*``, SQLAlchemy's
# ``inspect(engine)``/``Inspector`` readers).
CATALOGUE = frozenset({"introspection.*", "get_table_names", "get_view_names",
                       "get_pk_constraint", "get_foreign_keys"})
# Where a template names a schema object (a table, a column list), not where it takes a
# value, a name-making call's result (``field.column_name()``) is an identifier.
IDENTIFIER_SANITIZERS = SANITIZERS | {"*_name", *CATALOGUE}
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(.)")
FORMAT_METHODS = frozenset({"format", "format_map", "replace"})


def building_text(node: ast.AST) -> str | None:
    """The literal SQL-candidate text of a string-building expression, None if it is not one.

    ``"..." % x``, ``"..." + x``, f-strings and ``"...".format(x)``/``.replace(a, x)``.
    """
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        text = literal_text(node.left)
        return None if text == " ? " else text
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        text = literal_text(node)
        return None if not text.replace(" ? ", "") else text
    if isinstance(node, ast.JoinedStr):
        if not any(isinstance(v, ast.FormattedValue) for v in node.values):
            return None
        return literal_text(node)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in FORMAT_METHODS
    ):
        text = literal_text(node.func.value)
        return None if text == " ? " else text
    return None


def numeric_format(node: ast.AST) -> bool:
    """``"... LIMIT %d" % n``: every placeholder takes a number, which cannot inject."""
    if not (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Mod)
        and isinstance(node.left, ast.Constant)
        and isinstance(node.left.value, str)
    ):
        return False
    kinds = set(_PERCENT.findall(node.left.value)) - {"%"}
    return bool(kinds) and kinds <= set("diouxXeEfFgG")


class SqlStringBuilding(Rule):
    """An SQL statement is built by formatting or concatenating non-constant values.

    Splicing a value into SQL text with ``%``, ``+``, ``.format()`` or an f-string lets a
    quote in that value end the literal and change the statement: SQL injection (CWE-89).
    Pass the values as parameters instead (``cursor.execute("... WHERE id = %s", (id,))``,
    SQLAlchemy ``text()`` with bind parameters, Django ``params=``). Identifiers that cannot
    be parameters (table or column names) must come from an allow-list.

    A string counts as SQL when it starts like a statement (``SELECT ... FROM``, ``INSERT
    INTO``, ``UPDATE ... SET``, ``DELETE FROM``, ``WITH ... AS (``, DDL) or carries SQL
    keywords in capitals, or when it is built right inside a call of the sink catalogue
    (``reviewer/sinks.toml``, kind ``sql``; add your own with
    ``[[tool.reviewer.extra-sinks]]``): DB-API ``execute``/``executemany``/
    ``executescript`` on any cursor or connection, ``mogrify``, SQLAlchemy ``text()`` and
    ``exec_driver_sql``, Django ``raw()``, ``extra()`` and ``RawSQL``, pandas ``read_sql``,
    and asyncpg's ``fetch``/``fetchrow``/``fetchval``/``cursor`` and psycopg's
    ``copy_expert`` when the text looks like SQL. Methods too generic to match on any
    receiver are matched by the receiver's type, known from what made it
    (``conn = await asyncpg.connect(...)``, a ``with`` target, a parameter annotated
    ``asyncpg.Connection``; SQLAlchemy's
    ``session.query(Model)`` and ``Model.query``): asyncpg's ``cursor``/``prepare``/
    ``fetch*`` whatever the text, and the ORM query's ``filter``/``order_by``/
    ``group_by``/``having``/``distinct``, which take raw SQL text. When the SQL is built
    into a name that a sink then runs, the finding is where it is built and the sink call
    is a related location. Composition with psycopg's ``sql.SQL(...).format(
    sql.Identifier(...))`` and bind parameters are the safe forms. Parts proven constant by
    the data flow are not an injection and are not reported, nor are identifiers quoted
    by a function named ``quote*``/``escape*`` (``quote_name()``, ``quote_value()``; also
    called through an alias, ``qn = ops.quote_name``, or a function of the file whose every
    ``return`` gives a constant or a quoted value), SQL composition: what an SQL compiler
    returns (``sql, params = node.as_sql(...)``/``compiler.compile(...)``, any name unpacked
    with a parameters name, ``where, w_params = self.build_where(...)``, what a ``*_sql()``
    helper returns, and inside a private ``_*_sql`` helper that no code of the file calls,
    its parameters), joins of placeholders (a name saying ``placeholder``) and text
    returned as the first of an ``(sql, params)`` pair with parameters; names the code
    derives itself with a private ``_*_name()`` helper (``self._get_sequence_name(...)``),
    the backend's feature description (``connection.features.*``), and where a ``%s``
    template names a table or columns rather than taking a value (not inside ``'...'``,
    not after ``=``/``LIKE``/``LIMIT`` or in ``IN (...)``/``VALUES (...)``) what a
    name-making call returns (``field.m2m_column_name()``), names read from the database's
    catalogue (``connection.introspection.*``, SQLAlchemy's ``get_table_names()``...) and a
    name the catalogue was asked about before, the code going on only when the database
    knows it (``pk = introspection.get_primary_key_column(cursor, t)``, ``if not pk:
    continue``); values checked by
    ``if x not in ALLOWED: raise`` against a constant collection, class constants and
    attributes every store of which is constant read through ``self``, the parameters of a
    private function (``_helper``) that every call of it in the file gives a constant, and
    the keys a ``%(name)s`` template does not use (``strict = true`` reports
    them, and any non-literal SQL given to Django's ``RawSQL``/``extra``, as bandit's
    B608/B610/B611 do). Findings right inside an execute call are high severity, others
    medium.

    Fix (unsafe: the driver now quotes the values): when the SQL is formatted right inside
    ``cursor.execute(...)`` and the module imports one DB-API driver, so that its
    paramstyle is known (``sqlite3``: ``?``; ``psycopg``/``psycopg2``/``pymysql``/
    ``MySQLdb``: ``%s``), each value spliced where SQL takes a value (after ``=``, ``<``,
    ``>``, ``LIKE``, inside ``IN (...)`` or ``VALUES (...)``, after ``LIMIT``) becomes a
    placeholder (its quotes dropped) and the values a parameter tuple. Table and column
    names cannot be parameters and get no fix: where every non-constant value is spliced
    where the statement takes a name (after ``FROM``, ``JOIN``, ``INTO``, ``UPDATE``,
    ``SET``, ``TABLE``, ``BY``, ``SELECT``, a comma, a ``.``, a backquote or a bracket),
    the message says to quote each name or check it against the names allowed, and no
    edit of the line is asked of the model either (:meth:`has_local_fix`).
    """

    id = "RV603"
    slug = "sql-string-building"
    principle = "validate-input"
    severity = Severity.HIGH
    message = "SQL is built from non-constant values by string formatting; use parameters."
    counterparts = {"bandit": "B608, B610, B611", "ruff": "S608, S610, S611",
                    "gosec": "G201, G202"}
    options = {"strict": False, "extra_sinks": ()}
    tags = ("security", "injection", "external/cwe/cwe-89")
    security_severity = 8.8
    fixable = True
    VALID = [
        "def get(cur, uid):\n    cur.execute('SELECT * FROM users WHERE id = %s', (uid,))\n",
        "TABLE = 'users'\n\ndef count(cur):\n    cur.execute(f'SELECT count(*) FROM {TABLE}')\n",
        "def msg(name):\n    return 'Please select a file from the list: %s' % name\n",
        "def f(cur):\n    cols = ', '.join(['a', 'b'])\n"
        "    cur.execute('SELECT ' + cols + ' FROM t')\n",
        "print('delete from the cache as the first argument')\n",
        "def page(cur, limit):\n    cur.execute('SELECT * FROM t LIMIT %d' % limit)\n",
        "def f(cur, keys):\n    marks = ', '.join(['%s'] * len(keys))\n"
        "    cur.execute('DELETE FROM t WHERE k IN (%s)' % marks, keys)\n",
        "from sqlalchemy import text\n\ndef get(session, uid):\n"
        "    return session.execute(text('SELECT * FROM u WHERE id = :id').bindparams(id=uid))\n",
        "from psycopg2 import sql\n\ndef count(cur, table):\n"
        "    cur.execute(sql.SQL('SELECT count(*) FROM {}').format(sql.Identifier(table)))\n",
        "def get(cache, uid):\n    return cache.fetch(f'user:{uid}')\n",
        "async def get(conn, uid):\n"
        "    return await conn.fetch('SELECT * FROM u WHERE id = $1', uid)\n",
        "def f(conn, uid):\n"
        "    conn.exec_driver_sql('SELECT * FROM u WHERE id = %(id)s', {'id': uid})\n",
        "def top(items, col):\n    return items.order_by('-%s' % col)\n",
        "def rows(frame, col):\n    return frame.query('a > 1').filter(like='%s' % col)\n",
        "import asyncpg\n\nasync def rows(dsn, table):\n    conn = await asyncpg.connect(dsn)\n"
        "    return await conn.cursor('TABLE users')\n",
        # cursor() on a receiver of unknown type: a psycopg named cursor, not SQL.
        "def rows(conn, job):\n    return conn.cursor(f'export_{job}')\n",
        "async def rows(conn, uid):\n"
        "    return await conn.cursor('SELECT * FROM u WHERE id = $1', uid)\n",
        # What an SQL compiler returns: its text, the values kept apart as parameters.
        "def as_sql(self, compiler, where):\n    where_sql, params = compiler.compile(where)\n"
        "    return 'SELECT * FROM t WHERE %s' % where_sql, params\n",
        "def count(qs, cur):\n    inner, params = qs.query.get_compiler('default').as_sql()\n"
        "    cur.execute(f'SELECT COUNT(*) FROM ({inner}) sub', params)\n",
        # Identifiers quoted through an alias of the quoting function, or a wrapper of it.
        "def create(ops, cur, table):\n    qn = ops.quote_name\n"
        "    cur.execute('CREATE TABLE %s (id int)' % qn(table))\n",
        "class Creation:\n    def _quote(self, name):\n"
        "        return self.ops.quote_name(name)\n\n    def drop(self, cur, name):\n"
        "        cur.execute('DROP DATABASE %s' % self._quote(name))\n",
        "def cols(cur, ops, names):\n"
        "    cur.execute('SELECT %s FROM t' % ', '.join(ops.quote_name(n) for n in names))\n",
        # A named template uses only the keys it names (the others are never formatted in).
        "def drop(cur, ops, name, extra):\n"
        "    params = {'dbname': ops.quote_name(name), 'suffix': extra}\n"
        "    cur.execute('DROP DATABASE %(dbname)s' % params)\n",
        # A class constant read through self, never assigned as an attribute.
        "class Ops:\n    operators = {'contains': 'LIKE %s'}\n\n    def probe(self, cur):\n"
        "        cur.execute('SELECT 1 WHERE a %s' % self.operators['contains'], ['X'])\n",
        "class Probe:\n    counter = 1\n\n    def probe(self, cur, ops, table):\n"
        "        self.counter += 1\n"
        "        cur.execute('SELECT * FROM {} WHERE {} > 0'.format(ops.quote_name(table),"
        " self.counter))\n",
        # A private helper that every call in the file gives a constant.
        "class Ops:\n    def _call(self, cur, func):\n"
        "        cur.execute('SELECT %s()' % func)\n\n"
        "    def version(self, cur):\n        return self._call(cur, 'postgis_version')\n",
        # Any quote*/escape* function quotes; a name unpacked with its parameters from a
        # call is an SQL fragment whose values travel apart.
        "def drop(cur, conn, table):\n    cur.execute('DROP TABLE %s' % conn.quote_table(table))\n",
        "def rows(self, cur, node):\n    where, w_params = self.build_where(node)\n"
        "    cur.execute('SELECT * FROM t WHERE %s' % where, w_params)\n",
        "def fill(self, cur, field):\n    default, _ = self.db_default_sql(field)\n"
        "    cur.execute('UPDATE t SET a = %s' % default)\n",
        # A function of the file whose every return is constant (or quoted).
        "class Creation:\n    def suffix(self):\n        return ''\n\n"
        "    def create(self, cur, ops, name):\n"
        "        cur.execute('CREATE DATABASE %s %s' % (ops.quote_name(name), self.suffix()))\n",
        # Checked against a constant set before it is stored (and every store is checked).
        "class Conn:\n    levels = frozenset({'read committed', 'serializable'})\n\n"
        "    def __init__(self, level):\n        if level not in self.levels:\n"
        "            raise ValueError(level)\n        self.level = level\n\n"
        "    def start(self, cur):\n"
        "        cur.execute('SET TRANSACTION ISOLATION LEVEL %s' % self.level.upper())\n",
        # A dict of quoted names, filled key by key; the values of a comprehension of them.
        "def collate(cur, ops, name, locale, provider):\n"
        "    args = {'locale': ops.quote_name(locale)}\n    if provider:\n"
        "        args['provider'] = ops.quote_name(provider)\n"
        "    opts = ', '.join(f'{k}={v}' for k, v in args.items())\n"
        "    cur.execute('CREATE COLLATION %s (%s)' % (ops.quote_name(name), opts))\n",
        "def copy(cur, ops, fields):\n    mapping = {f: ops.quote_name(f) for f in fields}\n"
        "    cur.execute('INSERT INTO t SELECT %s FROM u' % ', '.join(mapping.values()))\n",
        # Joins of placeholders (named so), walked in step with their parameters by zip().
        "def bulk_insert_sql(fields, placeholder_rows):\n"
        "    rows = ', '.join('(%s)' % ', '.join(r) for r in placeholder_rows)\n"
        "    return f'INSERT INTO t VALUES {rows}'\n",
        "def inserts(self, cur, fields, rows):\n"
        "    marks, values = self.assemble_as_sql(fields, rows)\n"
        "    for p, vals in zip(marks, values):\n"
        "        cur.execute('INSERT INTO t VALUES (%s)' % ', '.join(p), vals)\n",
        # What a *_sql() helper returns is SQL the schema editor composed.
        "def add(self, cur, model):\n"
        "    cur.execute(str(self.constraint.create_sql(model)) + ' NOT VALID')\n",
        # An as_sql()-style (sql, params) pair: the text composes fragments, values apart.
        "def as_sql(self, compiler, cols, inner, params):\n"
        "    return 'SELECT %s FROM (%s) sub' % (cols, inner), tuple(params)\n",
        # The backend's feature description is the driver's code, not input.
        "def as_oracle(self, compiler, connection):\n"
        "    suffix = connection.features.bare_select_suffix\n"
        "    return f'(SELECT s FROM (SELECT LEVEL n{suffix}) GROUP BY s)'\n",
        # Table and column names: quoted, or made by the model's name-making calls.
        "def copy(self, old, new):\n"
        "    self.execute('INSERT INTO %s (%s) SELECT %s FROM %s' % (\n"
        "        self.quote_name(new.db_table), ', '.join(['id', new.m2m_column_name()]),\n"
        "        ', '.join(['id', old.m2m_column_name()]), self.quote_name(old.db_table)))\n",
        # A name the code derives itself with a private name-making helper (a sequence).
        "def last_id(self, cursor, table):\n"
        "    name = self._get_sequence_name(cursor, table)\n"
        "    cursor.execute('SELECT \"%s\".currval FROM dual' % name)\n",
        "def drop(self, model):\n"
        "    self.execute(\"DROP SEQUENCE \\\"%(sq)s\\\"\" % {\n"
        "        'sq': self.connection.ops._get_sequence_name(model.db_table)})\n",
        # Names from the database's catalogue, and a table name the catalogue was asked
        # about first and skipped when the database has no such table.
        "def check(self, names):\n"
        "    with self.cursor() as cursor:\n"
        "        for table in names:\n"
        "            pk = self.introspection.get_primary_key_column(cursor, table)\n"
        "            if not pk:\n"
        "                continue\n"
        "            for col, (ref_col, ref_table) in self.introspection.get_relations(\n"
        "                    cursor, table).items():\n"
        "                cursor.execute('SELECT `%s` FROM `%s` LEFT JOIN `%s` ON `%s` = `%s`'\n"
        "                               % (pk, table, ref_table, col, ref_col))\n",
        # A private SQL-composition helper no code of the file calls: other modules of the
        # composer give it the fragments they compiled.
        "class Editor:\n    def _condition_sql(self, condition):\n"
        "        return ' WHERE ' + condition if condition else ''\n",
    ]
    INVALID = [
        Invalid(
            "def get(cur, uid):\n    cur.execute(\"SELECT * FROM users WHERE id = '%s'\" % uid)\n",
            line=2,
        ),
        Invalid(
            "import sqlite3\n\ndef get(cur, uid, kind):\n"
            "    cur.execute(f\"SELECT * FROM users WHERE id = {uid} AND kind = '{kind}'\")\n",
            line=4,
            fixed="import sqlite3\n\ndef get(cur, uid, kind):\n"
            "    cur.execute('SELECT * FROM users WHERE id = ? AND kind = ?', (uid, kind))\n",
        ),
        Invalid(
            "import psycopg2\n\ndef get(cur, uid):\n"
            "    cur.execute(\"SELECT * FROM users WHERE id = '%s'\" % uid)  # one row\n",
            line=4,
            fixed="import psycopg2\n\ndef get(cur, uid):\n"
            "    cur.execute('SELECT * FROM users WHERE id = %s', (uid,))  # one row\n",
        ),
        Invalid(
            "def get(cur, name):\n    q = 'SELECT * FROM users WHERE name = \\'' + name + '\\''\n"
            "    cur.execute(q)\n",
            line=2,
        ),
        Invalid("def f(cur, table):\n    cur.execute(f'DELETE FROM {table}')\n", line=2),
        # Names spliced: no placeholder can take them (no local fix; the message says so).
        Invalid("def top(cur, col):\n    cur.execute(f'SELECT id FROM t ORDER BY {col}')\n",
                line=2),
        Invalid("def ref(qn, table, col):\n"
                "    return RawSQL('SELECT %s.%s' % (qn(table), col), [])\n", line=2),
        # The catalogue was asked about another name, or the name fills a value's place.
        Invalid(
            "def f(self, cursor, table, other):\n"
            "    pk = self.introspection.get_primary_key_column(cursor, other)\n"
            "    if not pk:\n        return\n"
            "    cursor.execute('DELETE FROM `%s`' % table)\n",
            line=5,
        ),
        Invalid(
            "def f(self, cursor, table):\n"
            "    pk = self.introspection.get_primary_key_column(cursor, table)\n"
            "    if not pk:\n        return\n"
            "    cursor.execute(\"SELECT * FROM t WHERE name = '%s'\" % table)\n",
            line=5,
        ),
        Invalid(
            "def f(db, col, uid):\n    return db.raw('{} = %s'.format(col), [uid])\n", line=2
        ),
        Invalid(
            "def f(where):\n    return 'UPDATE t SET a = 1 WHERE [X]'.replace('[X]', where)\n",
            line=2,
        ),
        Invalid(
            "from django.db.models.expressions import RawSQL\n\nsql = '1=1'\n"
            "User.objects.annotate(val=RawSQL(sql, []))\n",
            line=4,
            options={"strict": True},
        ),
        Invalid("def f(conn, name):\n    conn.exec_driver_sql(f\"DROP TABLE {name}\")\n", line=2),
        Invalid(
            "from sqlalchemy import text\n\ndef get(session, name):\n"
            "    return session.execute(text(\"SELECT * FROM u WHERE name = '\" + name + \"'\"))\n",
            line=4,
        ),
        Invalid(
            "async def get(conn, uid):\n"
            "    return await conn.fetchrow(f'SELECT * FROM u WHERE id = {uid}')\n",
            line=2,
        ),
        Invalid("def f(db, script):\n    db.executescript('BEGIN; %s; COMMIT;' % script)\n",
                line=2),
        Invalid(
            "def f(qs, col):\n    return qs.extra(where=['%s = 1' % col])\n", line=2
        ),
        Invalid(
            "def newest(session, col):\n"
            "    return session.query(User).filter(User.ok).order_by('%s desc' % col)\n",
            line=2,
        ),
        Invalid(
            "import asyncpg\n\nasync def rows(dsn, table):\n    conn = await asyncpg.connect(dsn)\n"
            "    return await conn.cursor('TABLE ' + table)\n",
            line=5,
        ),
        Invalid(
            "import asyncpg\n\nasync def rows(conn: asyncpg.Connection, table):\n"
            "    return await conn.fetch(f'TABLE {table}')\n",
            line=4,
        ),
        # asyncpg's cursor(query) on a receiver of unknown type, with SQL-looking text.
        Invalid(
            "async def rows(conn, table):\n    query = 'SELECT * FROM {}'.format(table)\n"
            "    return await conn.cursor(query)\n",
            line=2,
        ),
        Invalid(
            "def drop(cur, ops, name, extra):\n"
            "    params = {'dbname': ops.quote_name(name), 'suffix': extra}\n"
            "    cur.execute('DROP DATABASE %(dbname)s %(suffix)s' % params)\n",
            line=3,
        ),
        Invalid(
            "class Ops:\n    table = 'users'\n\n    def __init__(self, table):\n"
            "        self.table = table\n\n    def drop(self, cur):\n"
            "        cur.execute('DROP TABLE %s' % self.table)\n",
            line=8,
        ),
        Invalid(
            "class Ops:\n    def _call(self, cur, func):\n"
            "        cur.execute('SELECT %s()' % func)\n\n"
            "    def version(self, cur):\n        return self._call(cur, 'postgis_version')\n\n"
            "    def any(self, cur, name):\n        return self._call(cur, name)\n",
            line=3,
        ),
        Invalid(
            "def _run(cur, q):\n    cur.execute('SELECT * FROM %s' % q)\n\n"
            "def table(cur, q):\n    hooks = [_run]\n    _run(cur, 'users')\n",
            line=2,
        ),
        # A key stored into the mapping later is formatted in too.
        Invalid(
            "def drop(cur, name):\n    q = {'t': 'users'}\n    q['t'] = name\n"
            "    cur.execute('DROP TABLE %(t)s' % q)\n",
            line=4,
        ),
        # A (sql, params) pair with no parameters; a helper that returns its argument.
        Invalid("def as_sql(self, col):\n    return 'SELECT %s FROM t' % col, []\n", line=2),
        Invalid(
            "def _wrap(x):\n    return x\n\ndef drop(cur, name):\n"
            "    cur.execute('DROP TABLE %s' % _wrap(name))\n",
            line=5,
        ),
        # Checked, but the check does not stop the bad value.
        Invalid(
            "LEVELS = {'a', 'b'}\ndef start(cur, level):\n    if level not in LEVELS:\n"
            "        log(level)\n    cur.execute('SET LEVEL %s' % level)\n",
            line=5,
        ),
        # Unpacked from a call, but not with parameters.
        Invalid(
            "def drop(cur, req):\n    table, owner = req.split(':')\n"
            "    cur.execute('DROP TABLE %s' % table)\n",
            line=3,
        ),
        Invalid(
            "def cols(cur, names):\n"
            "    cur.execute('SELECT %s FROM t' % ', '.join(n.upper() for n in names))\n",
            line=2,
        ),
        # A name-making call is an identifier where SQL names a table, not as a value.
        Invalid(
            "def get(cur, user):\n"
            "    cur.execute(\"SELECT * FROM t WHERE name = '%s'\" % user.get_full_name())\n",
            line=2,
        ),
        Invalid("def drop(cur, table_name):\n    cur.execute('DROP TABLE %s' % table_name)\n",
                line=2),
        # A private *_sql helper the file calls with input.
        Invalid(
            "class Q:\n    def _where_sql(self, name):\n"
            "        return \"WHERE name = '%s'\" % name\n\n"
            "    def rows(self, cur, request):\n"
            "        cur.execute('SELECT * FROM t ' + self._where_sql(request.args['n']))\n",
            line=3,
        ),
        Invalid(
            "def top(request, cur):\n    flag = request.features.x\n"
            "    cur.execute(f'SELECT * FROM t WHERE a = {flag}')\n",
            line=3,
        ),
    ]

    @classmethod
    def has_local_fix(cls, finding: Finding) -> bool:
        """Table and column names cannot be parameters: making them safe takes the
        database's identifier quoting or an allow-list of the names, not a placeholder."""
        return _NAMES not in finding.message

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        strict = bool(self.settings["strict"])
        sinks = catalogue(KINDS, tuple(self.settings["extra_sinks"]))
        candidates: dict[ast.AST, bool] = {}  # building node -> inside an execute-like call
        for node in ctx.nodes(ast.BinOp, ast.JoinedStr, ast.Call):
            text = building_text(node)
            if text is None:
                continue
            sink = _sink_call(ctx, node, sinks)
            sqlish = is_sqlish(text)
            in_sink = sink is not None and (sqlish or not sink.sqlish)
            if in_sink or sqlish:
                candidates[node] = in_sink
        if not candidates and not strict:
            return
        df = flow(ctx)
        for node, in_sink in candidates.items():
            if _inside_candidate(ctx, node, candidates):
                continue
            constant = numeric_format(node) or df.is_constant(node, SANITIZERS) \
                or _returned_with_params(ctx, node) or _names_in_identifier_slots(ctx, df, node)
            if constant and not strict:
                continue
            runs = [] if in_sink else _executed_at(ctx, node, sinks)
            severity = Severity.HIGH if in_sink or runs else Severity.MEDIUM
            where = f" (run at line {runs[0].lineno})" if runs else ""
            names_only = not constant and _only_names_spliced(df, node)
            if names_only:
                message = NAMES_MESSAGE.format(where=where)
            else:
                message = ("SQL built by string formatting from "
                           + ("constant parts" if constant else "non-constant values")
                           + where + "; pass the values as query parameters.")
            finding = ctx.report(
                self,
                node,
                message,
                severity=Severity.LOW if constant else severity,
                fix=None if constant or names_only else _parameter_fix(ctx, node),
            )
            if runs:  # where it runs, as related locations (ctx.report gives their spans)
                finding = finding.with_(related=tuple(ctx.report(self, r).span for r in runs))
            yield finding
        if strict:
            yield from self._non_literal_django(ctx, df, candidates)

    def _non_literal_django(
        self, ctx: PyContext, df: Flow, candidates: dict[ast.AST, bool]
    ) -> Iterator[Finding]:
        """Strict mode: RawSQL()/extra() given SQL that is not a plain literal."""
        for call in calls(ctx):
            name = df.qualified_name(call.func)
            if name.endswith("RawSQL"):
                parts = _parts(argument(call, 0, "sql"))
            elif isinstance(call.func, ast.Attribute) and call.func.attr == "extra":
                parts = [
                    p for kw, pos in EXTRA_SQL_ARGS.items() for p in _parts(argument(call, pos, kw))
                ]
            else:
                continue
            if any(not _is_str(p) and p not in candidates for p in parts):
                yield ctx.report(
                    self, call, "SQL given to Django as a non-literal string.",
                    severity=Severity.LOW,
                )


def _sink_call(ctx: PyContext, node: ast.AST, sinks: Catalogue) -> Sink | None:
    """The catalogued SQL sink whose statement argument ``node`` is, if any.

    The statement is the sink's argument (its position or keyword) or a ``sql=``/``query=``
    keyword; for Django's ``extra()``, the values of its select/where/tables/order_by
    arguments.
    """
    child, contained, kw = node, False, None
    parent = ctx.parent(node)
    while isinstance(parent, (ast.Dict, ast.List, ast.Tuple, ast.keyword)):
        if isinstance(parent, ast.keyword):
            kw = parent.arg
        elif isinstance(parent, ast.Dict) and child not in parent.values:
            return None
        else:
            contained = True
        child, parent = parent, ctx.parent(parent)
    if not isinstance(parent, ast.Call) or child is parent.func:
        return None
    position = parent.args.index(child) if child in parent.args else None
    func = parent.func
    method = func.attr if isinstance(func, ast.Attribute) else None
    found: tuple[Sink, ...] = ()
    if isinstance(func, ast.Attribute) and func.attr in _typed_methods(sinks):
        owner = flow(ctx).value_type(func.value)  # a method of a known receiver type first
        found = sinks.lookup(f"{owner}.{func.attr}", None) if owner else ()
    found = found or sinks.lookup(flow(ctx).qualified_name(func), method)
    if not found and flow(ctx).qualified_name(func).endswith("RawSQL"):
        found = sinks.lookup("django.db.models.RawSQL", None)
    if not found:
        return None
    if method == "extra" and found[0].method == "extra":
        ok = kw in EXTRA_SQL_ARGS or position in EXTRA_SQL_ARGS.values()
        return found[0] if ok else None
    if contained:
        return None
    for sink in found:
        if position == sink.arg or kw == sink.keyword or kw in SQL_KEYWORDS:
            return sink
    return None


_TYPED: dict[int, tuple[Catalogue, frozenset[str]]] = {}


def _typed_methods(sinks: Catalogue) -> frozenset[str]:
    """The method names of the catalogue's typed sinks (``asyncpg.Connection.fetch``);
    catalogues are cached (sinks.catalogue), so this is computed once per catalogue."""
    hit = _TYPED.get(id(sinks))
    if hit is None or hit[0] is not sinks:
        hit = (sinks, frozenset(n.rsplit(".", 1)[1] for n in sinks.by_name if n.count(".") >= 2))
        _TYPED[id(sinks)] = hit
    return hit[1]


def _executed_at(ctx: PyContext, node: ast.AST, sinks: Catalogue) -> list[ast.Call]:
    """The catalogued SQL calls that run the text ``node`` builds, through the name it is
    assigned to (``q = "..." % x`` then ``cur.execute(q)`` in the same scope)."""
    stmt = ctx.parent(node)
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target: ast.expr = stmt.targets[0]
    elif isinstance(stmt, ast.AnnAssign) and stmt.value is node:
        target = stmt.target
    else:
        return []
    if not isinstance(target, ast.Name):
        return []
    df = flow(ctx)
    scope = df.scope_of(stmt)
    same = [n for n in ctx.nodes(ast.Name) if isinstance(n, ast.Name) and n.id == target.id
            and df.scope_of(n) is scope]
    stores = sorted(n.lineno for n in same if not isinstance(n.ctx, ast.Load))
    out = []
    for use in same:
        if (
            isinstance(use, ast.Name)
            and isinstance(use.ctx, ast.Load)
            and use.lineno > stmt.lineno
            # the assignment still holds: no other one in between (by line)
            and max(line for line in stores if line < use.lineno) == target.lineno
            and _sink_call(ctx, use, sinks) is not None
        ):
            call = ctx.parent(use)
            if isinstance(call, ast.Call):
                out.append(call)
    return out


def _returned_with_params(ctx: PyContext, node: ast.AST) -> bool:
    """``return "SELECT %s FROM (%s) sub" % (cols, inner), tuple(params)``: the text is
    returned as the first of a (sql, params) pair, as an SQL compiler's ``as_sql()`` does,
    with its values kept apart (a second element that is not an empty display or None)."""
    child = node
    for parent in ctx.ancestors(node):
        if isinstance(parent, ast.Tuple):
            if len(parent.elts) != 2 or parent.elts[0] is not child:
                return False
            params = parent.elts[1]
            if (isinstance(params, (ast.List, ast.Tuple, ast.Set)) and not params.elts) or (
                    isinstance(params, ast.Dict) and not params.keys) or (
                    isinstance(params, ast.Constant)):
                return False
            return isinstance(ctx.parent(parent), ast.Return)
        if isinstance(parent, ast.stmt) or not isinstance(
                parent, (ast.BinOp, ast.Call, ast.JoinedStr, ast.FormattedValue, ast.List)):
            return False
        child = parent
    return False


def _names_in_identifier_slots(ctx: PyContext, df: Flow, node: ast.AST) -> bool:
    """``"INSERT INTO %s (%s) SELECT ..." % (qn(t), ", ".join(["id", f.m2m_column_name()]))``:
    every value a ``%s`` template splices where the statement takes a value (inside a
    ``'...'`` literal, after ``=``/``<``/``>``/``LIKE``/``LIMIT``, inside ``IN (...)``/
    ``VALUES (...)``) is safe, and every other one, where it names a table or columns, is
    safe, made by a name-making call (``*_name()``), read from the database's catalogue
    (``connection.introspection.*``) or a name the catalogue was asked about first and
    that is skipped when it knows nothing of it (see :func:`_confirmed_by_catalogue`)."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod)
            and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str)):
        return False
    template = node.left.value
    values = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
    slots = [m for m in _PERCENT.finditer(template) if m.group(0) != "%%"]
    if len(slots) != len(values) or any(isinstance(v, ast.Starred) for v in values):
        return False
    for slot, value in zip(slots, values, strict=True):
        if slot.group(0) != "%s":
            return False
        if _takes_value(template[: slot.start()]):
            if not df.is_constant(value, SANITIZERS):
                return False
        elif not (df.is_constant(value, IDENTIFIER_SANITIZERS)
                  or _confirmed_by_catalogue(ctx, df, value, node)):
            return False
    return True


def _confirmed_by_catalogue(ctx: PyContext, df: Flow, value: ast.expr, node: ast.AST) -> bool:
    """``pk = self.introspection.get_primary_key_column(cursor, name)`` then ``if not pk:
    continue`` before ``name`` is spliced where a template names a table: the catalogue was
    asked about the name and the code goes on only for a name the database has, a check
    against the list of its tables (an identifier cannot be a query parameter). The lookup
    and the test must be earlier statements of a block that holds the splice, with no
    store to the name in between."""
    if not isinstance(value, ast.Name):
        return False
    child: ast.AST = node
    for parent in ctx.ancestors(node):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(parent, field, None)
            if isinstance(block, list) and child in block \
                    and _guarded_in(df, block[: block.index(child)], value.id):
                return True
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return False
        child = parent
    return False


def _guarded_in(df: Flow, before: list[ast.stmt], name: str) -> bool:
    """Whether ``before`` asks the catalogue about ``name`` into a variable and then leaves
    (``continue``/``break``/``return``/``raise``) when that variable is empty or None."""
    looked_up: set[str] = set()
    for stmt in before:
        if any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store)
               for n in ast.walk(stmt)):
            looked_up.clear()  # the name was rebound: earlier checks no longer hold
            continue
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name) and isinstance(stmt.value, ast.Call)
                and _catalogue_call(df, stmt.value)
                and any(isinstance(a, ast.Name) and a.id == name for a in stmt.value.args)):
            looked_up.add(stmt.targets[0].id)
        elif isinstance(stmt, ast.If) and not stmt.orelse and _leaves(stmt.body):
            test = stmt.test
            if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
                test = test.operand
            elif isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(
                    test.ops[0], ast.Is) and isinstance(test.comparators[0], ast.Constant) \
                    and test.comparators[0].value is None:
                test = test.left
            else:
                continue
            if isinstance(test, ast.Name) and test.id in looked_up:
                return True
    return False


def _catalogue_call(df: Flow, call: ast.Call) -> bool:
    name = df.qualified_name(call.func)
    return sanitizes(name, CATALOGUE) or sanitized_attribute(name, CATALOGUE)


def _leaves(body: list[ast.stmt]) -> bool:
    return len(body) == 1 and isinstance(body[0], (ast.Continue, ast.Break, ast.Return,
                                                    ast.Raise))


def _inside_candidate(ctx: PyContext, node: ast.AST, candidates: dict[ast.AST, bool]) -> bool:
    """Part of a larger building expression that is reported instead."""
    for parent in ctx.ancestors(node):
        if isinstance(parent, ast.stmt):
            return False
        if parent in candidates:
            return True
    return False


def _parts(expr: ast.expr | None) -> list[ast.expr]:
    """The SQL pieces of a RawSQL/extra argument (dict values, list elements, or itself)."""
    if expr is None:
        return []
    if isinstance(expr, ast.Dict):
        return list(expr.values)
    if isinstance(expr, (ast.List, ast.Tuple)):
        return list(expr.elts)
    return [expr]


def _is_str(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Constant) and isinstance(expr.value, str)


# Every non-constant value spliced where the statement names a table or columns.
_NAMES = "non-constant table or column names"
NAMES_MESSAGE = ("SQL built by string formatting from " + _NAMES + "{where}; names cannot be"
                 " parameters: quote each with the database's identifier quoting, or check"
                 " it against the names allowed.")
# Where a statement takes names: after FROM/JOIN/INTO/UPDATE/SET/TABLE/BY/SELECT, a comma of
# a name list, a `.` of table.column, a backquote or bracket.
_NAME_SLOT = re.compile(
    r"(?:\bfrom|\bjoin|\binto|\bupdate|\bset|\btable|\bby|\bselect|\bdistinct|,|\.|`|\[)\s*$",
    re.IGNORECASE,
)


def _takes_value(before: str) -> bool:
    """Whether SQL text ending in ``before`` takes a value next: inside a ``'...'`` literal,
    or after ``=``/``<``/``>``/``LIKE``/``LIMIT``/``OFFSET``, inside ``IN (...)`` or
    ``VALUES (...)``."""
    return before.count("'") % 2 == 1 or _VALUE_SLOT.search(before) is not None


def _only_names_spliced(df: Flow, node: ast.AST) -> bool:
    """``"%s.%s" % (qn(table), col)``, ``f"SELECT {cols} FROM {table}"``: whether every
    value that is not constant is spliced where the statement takes a name (and none where
    it takes a value or a clause)."""
    pieces = _pieces(node)
    if pieces is None:
        return False
    sql, spliced = "", False
    for text, value in pieces:
        if value is None:
            sql += text
            continue
        if not df.is_constant(value, SANITIZERS):
            if _takes_value(sql) or _NAME_SLOT.search(sql) is None:
                return False
            spliced = True
        sql += "x"  # the value's place: a name to what follows
    return spliced


# DB-API drivers by module, and their paramstyle's placeholder.
PARAMSTYLES = {"sqlite3": "?", "psycopg": "%s", "psycopg2": "%s", "pymysql": "%s",
               "MySQLdb": "%s"}
_VALUE_SLOT = re.compile(
    r"(?:=|<|>|\blike|\blimit|\boffset|\bin\s*\([^()]*|\bvalues\s*\([^()]*)\s*$",
    re.IGNORECASE,
)
_EXECUTE = frozenset({"execute"})


def placeholder_of(ctx: PyContext) -> str | None:
    """The placeholder of the one DB-API driver the module imports (None: none or several)."""
    found: set[str] = set()
    for node in ctx.nodes(ast.Import, ast.ImportFrom):
        if isinstance(node, ast.Import):
            names = [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [(node.module or "").split(".")[0]] if node.level == 0 else []
        found.update(PARAMSTYLES[n] for n in names if n in PARAMSTYLES)
    return found.pop() if len(found) == 1 else None


def _parameter_fix(ctx: PyContext, node: ast.AST) -> Fix | None:
    """``cur.execute(f"... id = {uid}")`` -> ``cur.execute('... id = ?', (uid,))``."""
    call = ctx.parent(node)
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
            and call.func.attr in _EXECUTE and call.args == [node] and not call.keywords):
        return None
    mark = placeholder_of(ctx)
    if mark is None:
        return None
    pieces = _pieces(node)
    if pieces is None:
        return None
    sql, values = "", []
    slot = "\0"  # a value's place while the text is assembled
    for text, value in pieces:
        if value is None:
            # With a %s paramstyle, a literal % must be written %% once parameters are given.
            sql += text.replace("%", "%%") if mark == "%s" else text
            continue
        quoted = sql.endswith(("'", '"'))
        if quoted:
            sql = sql[:-1]
        if not _VALUE_SLOT.search(sql.replace(slot, mark)):
            return None
        code = ast.get_source_segment(ctx.source, value)
        if code is None or "\n" in code or slot in text:
            return None
        sql += slot
        values.append((code, quoted))
    out, i, n = "", 0, 0
    while i < len(sql):  # drop the closing quote of each quoted value
        if sql[i] == slot:
            out += mark
            i += 1
            if values[n][1]:
                if i >= len(sql) or sql[i] not in "'\"":
                    return None
                i += 1
            n += 1
            continue
        out += sql[i]
        i += 1
    codes = [c for c, _ in values]
    if not codes:
        return None
    params = f"({codes[0]},)" if len(codes) == 1 else f"({', '.join(codes)})"
    end_line, end_col = getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)
    if end_line is None or end_col is None:
        return None
    edit = TextEdit(node.lineno, node.col_offset + 1,  # type: ignore[attr-defined]
                    end_line, end_col + 1, f"{out!r}, {params}")
    return Fix("Pass the values as query parameters", (edit,), safe=False)


def _pieces(node: ast.AST) -> list[tuple[str, ast.expr | None]] | None:
    """The SQL as (literal text, None) and ("", value) pieces; None when it has other
    formatting (a format spec, ``%d``, a ``%`` with a mapping)."""
    if isinstance(node, ast.JoinedStr):
        out: list[tuple[str, ast.expr | None]] = []
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                out.append((part.value, None))
            elif isinstance(part, ast.FormattedValue) and part.conversion == -1 \
                    and part.format_spec is None:
                out.append(("", part.value))
            else:
                return None
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) \
            and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
        template = node.left.value
        values = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
        if not isinstance(node.right, (ast.Tuple, ast.Name, ast.Attribute, ast.Call,
                                       ast.Subscript)):
            return None
        chunks = re.split(r"(%.)", template)
        out, k = [], 0
        for chunk in chunks:
            if chunk == "%s":
                if k >= len(values) or isinstance(values[k], ast.Starred):
                    return None
                out.append(("", values[k]))
                k += 1
            elif chunk == "%%":
                out.append(("%", None))
            elif chunk.startswith("%") and len(chunk) == 2:
                return None
            else:
                out.append((chunk, None))
        if k != len(values) or (not isinstance(node.right, ast.Tuple) and k != 1):
            return None
        return out
    return None

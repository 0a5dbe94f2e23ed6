; RV603: calls of a query method (db.query, knex.raw, prisma.$queryRawUnsafe...): the
; callee's text ends in one of the method names; the rule then checks for SQL built from
; non-constant values. (A plain wildcard pattern: nested fields cost compile time.)
(call_expression
  function: (_) @callee
  (#match? @callee "[.\\[][\"'`]?(query|execute|exec|raw|run|all|get|prepare|queryRaw|executeRaw|\\$queryRawUnsafe|\\$executeRawUnsafe|Query|QueryRow|Exec|QueryContext|QueryRowContext|ExecContext|Prepare|PrepareContext)[\"'`]?\\]?$")) @call

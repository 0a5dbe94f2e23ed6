; RV603: calls of a query method (db.query, knex.raw, prisma.$queryRawUnsafe...), the
; candidates the rule then checks for SQL built from non-constant values.
(call_expression
  function: (member_expression
    property: (_) @method)
  (#match? @method "^(query|execute|exec|raw|run|all|get|prepare|queryRaw|executeRaw|\\$queryRawUnsafe|\\$executeRawUnsafe|Query|QueryRow|Exec|QueryContext|QueryRowContext|ExecContext|Prepare|PrepareContext)$")) @call
(call_expression
  function: (subscript_expression
    index: (string) @method)
  (#match? @method "^[\"'](query|execute|exec|raw|run|all|get|prepare|queryRaw|executeRaw|\\$queryRawUnsafe|\\$executeRawUnsafe)[\"']$")) @call

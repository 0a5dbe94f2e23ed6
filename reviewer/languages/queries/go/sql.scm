; RV603: calls of a database/sql query method (db.Query, tx.ExecContext...), the
; candidates the rule then checks for SQL built from non-constant values.
(call_expression
  function: (selector_expression
    field: (field_identifier) @method)
  (#match? @method "^(Query|QueryRow|Exec|QueryContext|QueryRowContext|ExecContext|Prepare|PrepareContext|query|execute|exec|raw|run|all|get|prepare)$")) @call

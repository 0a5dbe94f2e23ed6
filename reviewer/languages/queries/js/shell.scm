; RV602: calls of child_process functions (exec, execSync, spawn, execFile...), found by
; the callee's last name; the rule then checks for non-constant command lines.
(call_expression
  function: [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
    (subscript_expression index: (string) @name)
  ]
  (#match? @name "^[\"'`]?(exec|execSync|spawn|spawnSync|execFile|execFileSync)[\"'`]?$")) @call

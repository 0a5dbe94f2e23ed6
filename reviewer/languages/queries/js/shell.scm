; RV602: calls of child_process functions (exec, execSync, spawn, execFile...): the
; callee's text ends in one of the names; the rule then checks for non-constant commands.
(call_expression
  function: (_) @callee
  (#match? @callee "(exec|execSync|spawn|spawnSync|execFile|execFileSync)[\"'`\\]]*$")) @call

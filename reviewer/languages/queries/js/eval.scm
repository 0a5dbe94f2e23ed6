; RV601: calls that may run a string as code (eval, Function, the string timers): the
; callee's text ends in one of the names (eval, window.eval, window["eval"], (0, eval)).
; The rule then resolves the callee (a local shadowing the global) and decides whether
; the code is constant. Plain wildcard patterns: each alternative or nested field costs
; milliseconds of compile time in every process.
(call_expression
  function: (_) @callee
  (#match? @callee "(eval|Function|Function[^A-Za-z0-9_$]*(call|apply|bind)|setTimeout|setInterval|setImmediate|execScript)[\"'`\\])]*$")) @call
(new_expression
  constructor: (_) @callee
  (#match? @callee "Function$")) @call

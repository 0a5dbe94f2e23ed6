; RV601: calls that may run a string as code (eval, Function, the string timers).
; A prefilter in C: the rule then resolves the callee (window.eval, (0, eval), a local
; shadowing the global) and decides whether the argument is constant.
(call_expression
  function: (_) @callee
  (#match? @callee "eval|Function|setTimeout|setInterval|setImmediate|execScript")) @call
(new_expression
  constructor: (_) @callee
  (#match? @callee "Function")) @call

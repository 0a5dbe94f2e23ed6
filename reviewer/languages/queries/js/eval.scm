; RV601: calls that may run a string as code (eval, Function, the string timers), found by
; the callee's last name only (never the text of a whole callee such as an IIFE). The rule
; then resolves the callee (window.eval, (0, eval), a local shadowing the global) and
; decides whether the argument is constant.
(call_expression
  function: [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
    (subscript_expression index: (string) @name)
    (parenthesized_expression (identifier) @name)
    (parenthesized_expression (member_expression property: (property_identifier) @name))
    (parenthesized_expression (sequence_expression [
      (identifier) @name
      (member_expression property: (property_identifier) @name)] .))
  ]
  (#match? @name "^[\"'`]?(eval|Function|setTimeout|setInterval|setImmediate|execScript)[\"'`]?$")) @call
; Function.call(...), Function.apply(...), Function.bind(...)
(call_expression
  function: (member_expression
    object: (identifier) @object
    property: (property_identifier) @name)
  (#eq? @object "Function")
  (#match? @name "^(call|apply|bind)$")) @call
; new Function(...), new window.Function(...)
(new_expression
  constructor: [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
  ]
  (#eq? @name "Function")) @call

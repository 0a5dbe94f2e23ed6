; RV602: exec.Command, exec.CommandContext, syscall.Exec/ForkExec/StartProcess,
; os.StartProcess: the candidates the rule then checks for non-constant commands.
(call_expression
  function: (selector_expression
    operand: (identifier) @package
    field: (field_identifier) @function)
  (#match? @package "^(exec|syscall|os)$")
  (#match? @function "^(Command|CommandContext|Exec|ForkExec|StartProcess)$")) @call

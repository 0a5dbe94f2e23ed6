; RV501: fmt.Print, fmt.Println, fmt.Printf and the print/println built-ins.
(call_expression
  function: (selector_expression
    operand: (identifier) @package
    field: (field_identifier) @function)
  (#eq? @package "fmt")
  (#match? @function "^Print(ln|f)?$")) @finding
(call_expression
  function: (identifier) @function
  (#match? @function "^print(ln)?$")) @finding

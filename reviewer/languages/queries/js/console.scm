; RV501: console.<method> and console["<method>"], called or passed on.
(member_expression
  object: (identifier) @object
  (#eq? @object "console")) @finding
(subscript_expression
  object: (identifier) @object
  (#eq? @object "console")) @finding

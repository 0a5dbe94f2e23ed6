; RV501: console.<method> and console["<method>"], called or passed on.
(member_expression
  object: (identifier) @object
  property: (_) @method
  (#eq? @object "console")) @finding
(subscript_expression
  object: (identifier) @object
  index: (_) @method
  (#eq? @object "console")) @finding

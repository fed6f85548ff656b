"""A seller's products: unit costs (typed in or imported from CSV), prices, break-even ACoS, and a target ACoS
derived from the profit the seller wants to keep after ads.

Amazon knows what an ASIN sells for but not what it costs the seller; without the cost no bid can be capped at
break-even. `service` reads and writes the rows, `importing` reads a cost file, `margin` holds the economics
(over `optimize.margin`, the bid engine's own rule) and `forms` reads what people type.
"""

-- bakeoff results store, schema version 3: configuration variants.
--
-- A contender selected as `<of>@<name>` records its variant identity; NULL for
-- plain contenders and for every contender of an earlier run.

ALTER TABLE contenders ADD COLUMN variant_of          TEXT;
ALTER TABLE contenders ADD COLUMN variant_name        TEXT;
ALTER TABLE contenders ADD COLUMN variant_description TEXT;

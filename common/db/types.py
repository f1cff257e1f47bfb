"""Column types shared by the models and the migrations."""

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# Microseconds everywhere: MariaDB's DATETIME drops them unless told.
DateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql', 'mariadb')

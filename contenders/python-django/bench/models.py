from django.db import models


class World(models.Model):
    # Column `randomnumber`: PostgreSQL folds TechEmpower's unquoted randomNumber
    # to lower case, and SQLite's names ignore case, so one spelling fits both.
    randomnumber = models.IntegerField()

    class Meta:
        db_table = "world"
        managed = False  # bakeoff creates and fills the database


class Fortune(models.Model):
    message = models.TextField()

    class Meta:
        db_table = "fortune"
        managed = False
